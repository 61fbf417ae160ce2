import Dispatch
import Testing
@testable import StepwiseKit

@Suite("the worker pool")
struct ParallelTests {
    /// Counts per index, filled by tasks on any thread.
    final class Counts: @unchecked Sendable {
        let values: UnsafeMutablePointer<Int>
        let n: Int
        init(_ n: Int) {
            self.n = n
            values = .allocate(capacity: n)
            values.initialize(repeating: 0, count: n)
        }
        deinit { values.deallocate() }
        var array: [Int] { Array(UnsafeBufferPointer(start: values, count: n)) }
    }

    @Test("every index runs exactly once, job after job")
    func eachIndexOnce() {
        for count in [0, 1, 2, 3, 8, 97, 1000] {
            for _ in 0..<50 {
                let c = Counts(count)
                Parallel.forEach(count) { i in c.values[i] += 1 }
                #expect(c.array == [Int](repeating: 1, count: count), "count \(count)")
            }
        }
    }

    @Test("callers on several threads at once, and a call from inside a task, each get all their indices")
    func concurrentAndNestedCallers() {
        let results = Counts(8)
        DispatchQueue.concurrentPerform(iterations: 8) { caller in
            for _ in 0..<200 {
                let c = Counts(16)
                Parallel.forEach(16) { i in
                    c.values[i] += 1
                    if i == 0 {
                        let inner = Counts(4)
                        Parallel.forEach(4) { j in inner.values[j] += 1 }
                        precondition(inner.array == [1, 1, 1, 1])
                    }
                }
                if c.array == [Int](repeating: 1, count: 16) { results.values[caller] += 1 }
            }
        }
        #expect(results.array == [Int](repeating: 200, count: 8))
    }
}
