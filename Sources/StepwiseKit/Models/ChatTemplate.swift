/// Wraps a user message the way a model's chat template does.
///
/// Templates are Jinja programs; Stepwise does not run Jinja. It recognises the ChatML form
/// (`<|im_start|>role\ncontent<|im_end|>\n`), which SmolLM2 and many small models use, including a
/// default system message written literally in the template, and refuses other templates clearly.
public enum ChatTemplate {
    /// The text for one user turn followed by the start of the assistant's turn.
    /// - Throws: ``StepwiseError`` for a template that is not ChatML.
    public static func render(template: String, user: String) throws -> String {
        guard template.contains("<|im_start|>"), template.contains("<|im_end|>") else {
            throw StepwiseError(.unsupported, "this model's chat template is not in the ChatML form Stepwise understands; use 'prompt' with the text you want")
        }
        var text = ""
        // A default system turn written literally: '<|im_start|>system\n…<|im_end|>\n'.
        // The newline may be stored as a character or as a Jinja escape.
        for marker in ["<|im_start|>system\n", "<|im_start|>system\\n"] {
            if let start = template.range(of: marker),
               let end = template.range(of: "<|im_end|>", range: start.upperBound..<template.endIndex) {
                text += "<|im_start|>system\n" + template[start.upperBound..<end.lowerBound] + "<|im_end|>\n"
                break
            }
        }
        text += "<|im_start|>user\n" + user + "<|im_end|>\n<|im_start|>assistant\n"
        return text
    }
}
