import Testing
@testable import StepwiseKit

@Suite("KV cache labels")
struct KVCacheLabelTests {
    @Test("each cached id is labelled once while the ids grow or are cut short, and again when they change")
    func labelledOnce() {
        let cache = KVCache(layers: 1)
        var calls: [Int] = []
        func label(_ id: Int) -> String {
            calls.append(id)
            return "t\(id)"
        }
        cache.tokenIDs = [5, 6]
        #expect(cache.labels(label) == ["t5", "t6"])
        cache.tokenIDs += [7]
        #expect(cache.labels(label) == ["t5", "t6", "t7"])
        #expect(calls == [5, 6, 7], "only the new id is labelled")
        cache.tokenIDs.removeLast()
        #expect(cache.labels(label) == ["t5", "t6"])
        cache.tokenIDs += [9]
        #expect(cache.labels(label) == ["t5", "t6", "t9"])
        #expect(calls == [5, 6, 7, 9])
        cache.tokenIDs = [1, 6, 9]
        #expect(cache.labels(label) == ["t1", "t6", "t9"])
        #expect(calls == [5, 6, 7, 9, 1, 6, 9], "a changed id makes them again")
        cache.tokenIDs = []
        #expect(cache.labels(label).isEmpty)
    }
}
