import Dispatch
import Synchronization
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

    @Test("with every core busy elsewhere, jobs still run each index once, and no task runs after its caller returned")
    func oversubscribed() {
        // Spinning threads, one more than the cores, so pool workers are often not running when a job starts.
        final class Flag: Sendable { let stop = Atomic<Bool>(false) }
        let flag = Flag()
        let spinners = Parallel.threads + 1
        let group = DispatchGroup()
        for _ in 0..<spinners {
            DispatchQueue.global().async(group: group) {
                var x = 0
                while !flag.stop.load(ordering: .relaxed) { x &+= 1 }
                _ = x
            }
        }
        let jobs = 300
        let all = (0..<jobs).map { _ in Counts(24) }
        var ok = 0
        for j in 0..<jobs {
            let c = all[j]
            Parallel.forEach(24) { i in c.values[i] += 1 }
            if c.array == [Int](repeating: 1, count: 24) { ok += 1 }
        }
        flag.stop.store(true, ordering: .relaxed)
        group.wait()
        #expect(ok == jobs)
        // A late worker would have added to some job's counts after it was checked.
        #expect(all.allSatisfy { $0.array == [Int](repeating: 1, count: 24) })
    }
}
