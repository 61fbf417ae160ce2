import Testing
@testable import StepwiseKit

@Suite("Sampling settings")
struct SamplingSettingsTests {
    @Test("valid values are kept")
    func valid() throws {
        let s = try SamplingSettings(temperature: 0.7, topK: 40, topP: 0.9, seed: 42)
        #expect(s.temperature == 0.7 && s.topK == 40 && s.topP == 0.9 && s.seed == 42)
        #expect(s.summary == "temperature 0.7, top-k 40, top-p 0.9, seed 42")
        #expect(SamplingSettings.greedy.isGreedy)
        #expect(SamplingSettings.greedy.summary == "temperature 0 (greedy), top-k off, top-p off, seed 0")
        let defaults = try SamplingSettings()
        #expect(defaults == SamplingSettings.standard)
        #expect(try SamplingSettings(topP: 1e-9).topP == 1e-9)
    }

    @Test("out-of-range values are usage errors that name the setting",
          arguments: [(-0.5, 0, 1.0, "temperature"), (.nan, 0, 1.0, "temperature"), (.infinity, 0, 1.0, "temperature"),
                      (1.0, -1, 1.0, "top-k"), (1.0, 0, 0.0, "top-p"), (1.0, 0, 1.5, "top-p"), (1.0, 0, .nan, "top-p"),
                      (1.0, 0, -0.1, "top-p")])
    func invalid(t: Double, k: Int, p: Double, name: String) {
        do {
            _ = try SamplingSettings(temperature: t, topK: k, topP: p)
            Issue.record("accepted temperature \(t), top-k \(k), top-p \(p)")
        } catch let e as StepwiseError {
            #expect(e.kind == .usage)
            #expect(e.message.hasPrefix(name), "\(e.message)")
        } catch {
            Issue.record("unexpected error \(error)")
        }
    }

    @Test("set parses text as the REPL passes it")
    func setFromText() throws {
        var s = SamplingSettings.standard
        try s.set("temperature", to: "0.25")
        try s.set("k", to: "5")
        try s.set("top-p", to: " 0.8 ")
        try s.set("seed", to: "18446744073709551615")
        let want = try SamplingSettings(temperature: 0.25, topK: 5, topP: 0.8, seed: .max)
        #expect(s == want)
        try s.set("temp", to: "0")
        #expect(s.isGreedy)
        for (name, text, start) in [("temperature", "hot", "temperature"), ("temperature", "inf", "temperature"),
                                    ("temperature", "-1", "temperature"), ("top_k", "2.5", "top-k"),
                                    ("top_k", "-3", "top-k"), ("top_p", "0", "top-p"), ("top_p", "abc", "top-p"),
                                    ("seed", "-3", "seed"), ("colour", "red", "unknown sampling setting")] {
            let before = s
            #expect {
                try s.set(name, to: text)
            } throws: { ($0 as? StepwiseError)?.message.hasPrefix(start) == true }
            #expect(s == before, "a rejected value must not change the settings")
        }
    }
}
