import CKernels

/// Process-wide allocator settings.
enum Allocator {
    /// Keeps the memory of freed tensors in the process for the next forward pass: a traced pass
    /// allocates a few hundred tensors of 0.1-10 MB, and with glibc's defaults every pass faulted in
    /// and zeroed fresh pages (a tenth of a traced SmolLM2 pass in profiles). See CKernels.h.
    static func keepFreedMemory() {
        stepwise_keep_freed_memory()
    }
}
