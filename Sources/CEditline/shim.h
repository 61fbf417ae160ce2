#ifndef STEPWISE_CEDITLINE_SHIM_H
#define STEPWISE_CEDITLINE_SHIM_H
#include <stdio.h>
#include <editline/readline.h>

// Swift 6 rejects direct access to mutable C globals; these setters keep the access in C.
typedef char *(*stepwise_completion_fn)(const char *, int);
static inline void stepwise_set_completion_entry(stepwise_completion_fn fn) {
    rl_completion_entry_function = (rl_compentry_func_t *)fn;
}
static inline void stepwise_set_completion_append_character(int c) { rl_completion_append_character = c; }
static inline void stepwise_set_basic_word_break_characters(const char *s) { rl_basic_word_break_characters = (char *)s; }
static inline const char *stepwise_line_buffer(void) { return rl_line_buffer; }
static inline int stepwise_point(void) { return rl_point; }
#endif
