import CKernels

/// Splits work over the cores through one process-wide pool (see `CKernels/parallel.c`): the calling
/// thread and (cores − 1) workers that spin briefly between jobs before they sleep, so the ~120 small
/// products of a generated token start without waking threads through the kernel each time.
enum Parallel {
    /// Threads that run a job: the caller and the pool's workers (the CPUs this process may use).
    static let threads = Int(stepwise_parallel_workers()) + 1

    /// Runs `body(0)` … `body(count − 1)`, spread over the cores; returns when all have run. Calls made
    /// while another is running (from another thread, or from inside `body`) run on the calling thread.
    static func forEach(_ count: Int, _ body: @Sendable (Int) -> Void) {
        guard count > 1 else {
            if count == 1 { body(0) }
            return
        }
        withoutActuallyEscaping(body) { escaping in
            var task = escaping
            withUnsafeMutablePointer(to: &task) { pointer in
                stepwise_parallel_for(count, { context, index in
                    context!.assumingMemoryBound(to: (@Sendable (Int) -> Void).self).pointee(index)
                }, pointer)
            }
        }
    }
}
