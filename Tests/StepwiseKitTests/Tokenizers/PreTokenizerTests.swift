import Foundation
import Testing
@testable import StepwiseKit

@Suite("PreTokenizer")
struct PreTokenizerTests {
    @Test("matches the Python regex module on every reference string", arguments: PreTokenizerKind.allCases)
    func matchesPythonRegex(kind: PreTokenizerKind) throws {
        let cases = try TokenizerCases.cases.get()
        #expect(cases.count >= 300)
        var mismatches = 0
        for c in cases {
            let want = try #require(c.pretokens[kind.rawValue], "no \(kind) pre-tokens for \(c.text.debugDescription)")
            let got = kind.split(c.text)
            if got.map({ Array($0.utf8) }) != want.map({ Array($0.utf8) }) {
                mismatches += 1
                Issue.record("\(kind) \(c.text.debugDescription): got \(got), want \(want)")
            }
        }
        #expect(mismatches == 0)
    }

    @Test("known splits")
    func knownSplits() {
        #expect(PreTokenizerKind.gpt2.split("  99") == [" ", " 99"])
        #expect(PreTokenizerKind.smollm.split("  99") == ["  ", "9", "9"])
        #expect(PreTokenizerKind.llama3.split("12345 I'M") == ["123", "45", " I", "'M"])
        #expect(PreTokenizerKind.qwen2.split("123") == ["1", "2", "3"])
        #expect(PreTokenizerKind.gpt2.split("I'M") == ["I", "'", "M"])
        #expect(PreTokenizerKind.gpt2.split("a  \n b") == ["a", "  \n", " b"])
        #expect(PreTokenizerKind.llama3.split("a  \n b") == ["a", "  \n", " b"])
        #expect(PreTokenizerKind.gpt2.split("") == [])
    }

    @Test("GGUF tokenizer.ggml.pre names")
    func ggufNames() {
        #expect(PreTokenizerKind(ggufName: "gpt-2") == .gpt2)
        #expect(PreTokenizerKind(ggufName: "default") == .gpt2)
        #expect(PreTokenizerKind(ggufName: "llama-bpe") == .llama3)
        #expect(PreTokenizerKind(ggufName: "llama3") == .llama3)
        #expect(PreTokenizerKind(ggufName: "smollm") == .smollm)
        #expect(PreTokenizerKind(ggufName: "qwen2") == .qwen2)
        #expect(PreTokenizerKind(ggufName: "deepseek-llm") == nil)
        #expect(PreTokenizerKind(ggufName: "") == nil)
    }

    @Test("byte map is GPT-2's and reversible")
    func byteMap() {
        #expect(ByteEncoder.encode(Array(" cat\n".utf8)) == "ĠcatĊ")
        #expect(ByteEncoder.scalars[0] == "\u{100}")
        #expect(ByteEncoder.scalars[0xAD] == "\u{143}")
        #expect(Set(ByteEncoder.scalars).count == 256)
        for b in 0..<256 { #expect(ByteEncoder.byte(for: ByteEncoder.scalars[b]) == UInt8(b)) }
        #expect(ByteEncoder.byte(for: "\u{144}") == nil)
        #expect(ByteEncoder.byte(for: " ") == nil)
    }
}
