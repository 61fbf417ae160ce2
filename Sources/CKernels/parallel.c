#define _GNU_SOURCE
#include "CKernels.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <unistd.h>
#if defined(__x86_64__)
#include <immintrin.h>
#define STEPWISE_PAUSE() _mm_pause()
#else
#define STEPWISE_PAUSE() ((void)0)
#endif

/// One pool for the process: (cores − 1) workers that spin briefly for the next job, then sleep.
///
/// Token-by-token generation splits ~120 small products a token over the cores; waking sleeping
/// threads through the kernel for each one cost more than a tenth of the time. A worker that has just
/// finished a job spins (with `pause`) for a few tens of microseconds before it sleeps on a condition
/// variable, so back-to-back jobs start without a system call.
///
/// Every worker has a mailbox: the caller writes the job, opens it (`open_job`), then writes the job's
/// number into each `start`. A worker that sees it counts itself in (`inside`), and takes tasks from the
/// shared counter only if that job is still open. When the counter runs out the caller closes the job and
/// waits only for the workers counted in, which are busy with its last tasks or about to leave: a worker
/// the scheduler has not run yet (a shared machine, more threads than cores) is not waited for, and when
/// it runs it finds the job closed and does nothing. So no worker looks at a job after its caller
/// returned, and a descheduled worker costs the caller nothing.
enum { SPIN_ROUNDS = 20000, MAX_WORKERS = 63 };

typedef struct {
    _Atomic unsigned long start;
    char pad[64 - sizeof(unsigned long)];  // one cache line per mailbox
} mailbox;

static mailbox boxes[MAX_WORKERS];
static pthread_once_t pool_once = PTHREAD_ONCE_INIT;
static int worker_count;
static pthread_mutex_t caller_lock = PTHREAD_MUTEX_INITIALIZER;  // one job at a time
static pthread_mutex_t sleep_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t sleep_cond = PTHREAD_COND_INITIALIZER;
static _Atomic int sleepers;

static unsigned long job_number;  // written by the caller only
static stepwise_task_fn job_fn;
static void *job_context;
static size_t job_count;
static _Atomic size_t next_index;
static _Atomic unsigned long open_job;  // the job workers may join, 0 when none
static _Atomic int inside;              // workers that joined the open job and have not left

static void take_tasks(void) {
    size_t i;
    while ((i = atomic_fetch_add_explicit(&next_index, 1, memory_order_relaxed)) < job_count) {
        job_fn(job_context, i);
    }
}

static void *worker_main(void *arg) {
    mailbox *box = (mailbox *)arg;
    unsigned long seen = 0;
    for (;;) {
        unsigned long g = seen;
        for (int k = 0; k < SPIN_ROUNDS && (g = atomic_load_explicit(&box->start, memory_order_acquire)) == seen; k++) {
            STEPWISE_PAUSE();
        }
        if (g == seen) {
            pthread_mutex_lock(&sleep_lock);
            atomic_fetch_add(&sleepers, 1);
            while ((g = atomic_load(&box->start)) == seen) pthread_cond_wait(&sleep_cond, &sleep_lock);
            atomic_fetch_sub(&sleepers, 1);
            pthread_mutex_unlock(&sleep_lock);
        }
        seen = g;
        // Counted in first, then the check: the caller closes the job before it waits for `inside`, so
        // either this sees it closed or the caller sees this worker counted (both sequentially consistent).
        atomic_fetch_add(&inside, 1);
        if (atomic_load(&open_job) == g) take_tasks();
        atomic_fetch_sub(&inside, 1);
    }
    return NULL;
}

/// The CPUs this process may run on (its affinity mask, as `taskset` or a container's cpuset sets it),
/// else the online ones.
static long usable_cpus(void) {
#if defined(__linux__)
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) == 0 && CPU_COUNT(&set) > 0) return CPU_COUNT(&set);
#endif
    return sysconf(_SC_NPROCESSORS_ONLN);
}

static void start_pool(void) {
    long cores = usable_cpus();
    int n = cores > 1 ? (int)(cores - 1) : 0;
    if (n > MAX_WORKERS) n = MAX_WORKERS;
    for (int i = 0; i < n; i++) {
        pthread_t t;
        pthread_attr_t attr;
        pthread_attr_init(&attr);
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        if (pthread_create(&t, &attr, worker_main, &boxes[worker_count]) == 0) worker_count++;
        pthread_attr_destroy(&attr);
    }
}

int stepwise_parallel_workers(void) {
    pthread_once(&pool_once, start_pool);
    return worker_count;
}

void stepwise_parallel_for(size_t count, stepwise_task_fn fn, void *context) {
    if (count == 0) return;
    pthread_once(&pool_once, start_pool);
    // A second caller (another thread, or a task that itself splits work) runs its job inline.
    if (count == 1 || worker_count == 0 || pthread_mutex_trylock(&caller_lock) != 0) {
        for (size_t i = 0; i < count; i++) fn(context, i);
        return;
    }
    job_fn = fn;
    job_context = context;
    job_count = count;
    atomic_store_explicit(&next_index, 0, memory_order_relaxed);
    unsigned long g = ++job_number;
    atomic_store(&open_job, g);
    for (int w = 0; w < worker_count; w++) atomic_store(&boxes[w].start, g);
    if (atomic_load(&sleepers) > 0) {
        pthread_mutex_lock(&sleep_lock);
        pthread_cond_broadcast(&sleep_cond);
        pthread_mutex_unlock(&sleep_lock);
    }
    take_tasks();
    atomic_store(&open_job, 0);
    // The workers still inside are finishing their last task; one the scheduler took off its core gets
    // the core back sooner if this thread yields now and then.
    for (unsigned spins = 1; atomic_load(&inside) != 0; spins++) {
        if (spins % 1024 == 0) sched_yield();
        else STEPWISE_PAUSE();
    }
    pthread_mutex_unlock(&caller_lock);
}
