import Foundation
import Testing
@testable import StepwiseKit

/// What a class at an 80x24 projector needs from the commands: every line fits, compact forms fit the
/// screen, tables say what they hold, completion offers what each argument takes.
@Suite("Commands at 80x24", .enabled(if: ModelLoader.builtinPath != nil, "the built-in model is missing"))
struct ClassroomCommandTests {
    static let prompt = "prompt Mr. Darcy bowed to Miss Woodhouse, and then Mr. Darcy bowed to Miss"

    /// Every command of the set, with arguments, on the built-in model.
    static let script = [
        prompt, "where", "steps", "steps all", "tokens", "explain", "explain unbelievable", "attn 1 2", "attn 1 2 4", "attn 0 0 all",
        "heads 1", "embed", "ffn 0", "logits", "top 5", "sample", "set temperature 0.8", "set top-k 10", "set top-p 0.9", "sample",
        "generate 12", prompt, "compare temperature 0.5 1.5",
        "compare prompts \"Mr. Darcy bowed to Miss Woodhouse, and then Mr. Darcy bowed to Miss\" \"Mr. Darcy bowed to Miss Lucas, and then Mr. Darcy bowed to Miss\"",
        "weights 1 2", "weights 1 2 q", "detect", "detect previous", "detect induction", "detect first prompt", "ablate 1 2",
        "restore", "lens", "lens -1", "attribute \" Woodhouse\" \" Bingley\"",
        "patch resid_pre \"Mr. Darcy bowed to Miss Woodhouse, and then Mr. Darcy bowed to Miss\" \"Mr. Darcy bowed to Miss Lucas, and then Mr. Darcy bowed to Miss\" \" Woodhouse\" \" Lucas\"",
        "steer resid_pre 1 \"Miss Woodhouse\" \"Miss Lucas\" 2", "restore steer", "info", "set", "lessons", "help",
        "help set", "help patch", "help attn", "set unicode off", "tokens", "explain", "steps", "sample",
    ]

    @Test("every line every command prints fits 80 columns (and 60), wrapped on word boundaries")
    func fits() throws {
        for width in [80, 60] {
            var t = try Transcript(width: width)
            for line in Self.script {
                let (text, ok) = t.run(line)
                #expect(ok, "\(line) failed: \(text)")
                for l in text.split(separator: "\n").dropFirst() where TextWidth.of(String(l)) > width {
                    Issue.record("\(line) at \(width): \(TextWidth.of(String(l))) columns: \(l)")
                }
            }
        }
    }

    @Test("attn L H is a summary that fits 80x24; attn L H N shows one stage and names the next; all shows every stage")
    func attn() throws {
        var t = try Transcript()
        _ = t.run("prompt The cat sat on the mat. The cat sat on the")
        let summary = t.run("attn 0 0").text.split(separator: "\n", omittingEmptySubsequences: false).dropFirst().dropLast()
        #expect(summary.count <= 23, "\(summary.count) lines:\n\(summary.joined(separator: "\n"))")
        #expect(summary.contains { $0.contains("6. pattern = softmax(scores) over key_pos") && $0.hasSuffix("[14, 14]") })
        #expect(summary.contains { $0.contains("Where the last position, 13 ' the', looks") })
        let stage = t.run("attn 0 0 6").text
        #expect(stage.contains("6. Attention pattern (layer 0)") && stage.contains("stage 6 of 7; next: 'attn 0 0 7'"))
        #expect(!stage.contains("Keys"))
        let all = t.run("attn 0 0 all").text
        for n in 1...7 { #expect(all.contains("\n\(n). ")) }
        #expect(!t.run("attn 0 0 8").ok)
    }

    @Test("steps keeps the cursor on screen: a window around it, with the steps above and below counted")
    func steps() throws {
        var t = try Transcript()
        _ = t.run("prompt The cat sat on the mat")
        // Every step is on a line, in a folded layer's count, or in the count above or below the window.
        func total(_ lines: [String]) -> Int {
            lines.reduce(0) { sum, line in
                let words = line.split(separator: " ")
                if line.contains(" above (") || line.hasSuffix(" below"), let n = Int(words[1]) { return sum + n }
                if line.contains("' expands)"), let n = line.split(separator: "(").last.flatMap({ Int($0.split(separator: " ")[0]) }) { return sum + n }
                return sum + 1
            }
        }
        for (cursor, above) in [(30, false), (44, true), (3, false)] {
            _ = t.run("goto \(cursor)")
            let lines = t.run("steps").text.split(separator: "\n").dropFirst().map(String.init)
            #expect(lines.count <= 21, "\(lines.count) lines")
            #expect(lines.contains { $0.hasPrefix("▶  " + String(cursor).leftPadded(2) + "  ") }, "no cursor line: \(lines)")
            #expect(lines.first?.contains("steps above") == above, "\(lines)")
            #expect(total(lines) == 48, "\(lines)")
        }
        // 'steps all' is the whole outline.
        #expect(t.run("steps all").text.split(separator: "\n").count == 49)
    }

    @Test("sample: ids print as whole numbers in their own column, beside the probabilities; the drawn rank is shown and marked")
    func sample() throws {
        var t = try Transcript()
        _ = t.run("prompt The cat sat on the")
        let text = t.run("sample").text
        #expect(text.contains("  rank  token"))
        #expect(!text.contains("1937.000") && !text.contains("field"))
        // The top-p table's first row: rank 0, its token, its id as an integer, then probabilities.
        let row = try #require(text.split(separator: "\n").first { $0.hasPrefix("     0  ' table'") })
        let cells = row.split(separator: " ")
        #expect(cells[3] == "1937" && cells[4].hasPrefix("0.0"))
        #expect(text.contains("▶  357  ' with'"), "the drawn rank is not shown")
        #expect(text.contains("  token id           342"))
    }

    @Test("compare: a label never touches its bar")
    func compare() throws {
        var t = try Transcript()
        _ = t.run("prompt Elizabeth looked at her sister and")
        for line in t.run("compare temperature 0.5 1.5").text.split(separator: "\n") where line.contains("█") || line.contains("▏") {
            let label = line.dropFirst(2).prefix { !"█▉▊▋▌▍▎▏".contains($0) }
            #expect(label.hasSuffix("  "), "label touches its bar: \(line)")
        }
    }

    @Test("set unicode off prints no Ġ in piece columns; help set lists every setting; help names lessons that exist")
    func smallThings() throws {
        var t = try Transcript()
        _ = t.run("set unicode off\nprompt The cat sat on the")
        let pieces = t.run("tokens\nexplain\nexplain \" the\"").text
        #expect(!pieces.contains("Ġ") && pieces.contains("_sat") && pieces.contains(PieceText.asciiLegend))
        #expect(t.run("explain \" the\"").text.contains("1 token from 1 pre-token"))
        let help = t.run("help set").text
        for name in Settings.names { #expect(help.contains("- \(name): "), "help set does not list \(name)") }
        for command in StandardCommands.all {
            for example in command.examples where example.hasPrefix("lesson ") {
                let name = String(example.dropFirst(7))
                #expect(throws: Never.self, "'\(example)' names no lesson") {
                    _ = try LessonRunner.find(name, CommandContext(baseDirectory: TestPaths.repoRoot.path))
                }
            }
        }
    }
}

@Suite("Tab completion", .enabled(if: ModelLoader.builtinPath != nil, "the built-in model is missing"))
struct CompletionTests {
    let completer = Completer(interpreter: StandardCommands.interpreter(), baseDirectory: TestPaths.repoRoot.path)

    func session() throws -> Session {
        var t = try Transcript()
        _ = t.run("prompt The cat sat")
        return t.session
    }

    @Test("heads where a head goes, layers where a layer goes, and the words that follow")
    func layersAndHeads() throws {
        let s = try session()
        func c(_ before: String, _ word: String = "") -> [String] { completer.complete(lineBefore: before, word: word, session: s) }
        #expect(c("attn ") == ["0", "1"])
        #expect(c("attn 1 ") == ["0", "1", "2", "3"])
        #expect(c("attn 1 2 ") == ["all"])
        #expect(c("weights 0 1 ") == ["q", "k", "v", "o"])
        #expect(c("weights 0 ") == ["0", "1", "2", "3"])
        #expect(c("show pattern ") == ["0", "1"])
        #expect(c("show pattern 1 ") == ["head"])
        #expect(c("show pattern 1 head ") == ["0", "1", "2", "3"])
        #expect(c("ablate 0 1 ") == ["0", "1", "zero", "mean"])
        #expect(c("ablate 0 1 1 ") == ["0", "1", "2", "3"])
        #expect(c("restore ", "s") == ["steer"])
        #expect(c("heads ") == ["0", "1"] && c("heads 1 ") == [])
        #expect(c("set ", "pa") == ["palette", "pager"] && c("set pager ") == ["auto", "on", "off"])
    }

    @Test("only the step names this model has")
    func steps() throws {
        let s = try session()
        let names = completer.complete(lineBefore: "show ", word: "", session: s)
        #expect(names.contains("blocks.0.attn.hook_pattern") && names.contains("pattern") && names.contains("pos_embed"))
        #expect(!names.contains("rot_q") && !names.contains("token_type_embed"), "GPT-2 has no RoPE and no token types")
        #expect(completer.complete(lineBefore: "goto ", word: "ro", session: s).isEmpty)
        // After a whole step, export completes a file name.
        #expect(completer.complete(lineBefore: "export logits ", word: "READ", session: s) == ["README.md"])
        #expect(completer.complete(lineBefore: "export pattern 0 ", word: "ARCH", session: s) == ["ARCHITECTURE.md"])
    }

    @Test("file names inside the folder typed so far")
    func files() throws {
        let s = try session()
        #expect(completer.complete(lineBefore: "load ", word: "Tests/StepwiseKitTests/Fixt", session: s) == ["Tests/StepwiseKitTests/Fixtures/"])
        let inside = completer.complete(lineBefore: "load ", word: "Tests/StepwiseKitTests/Fixtures/bu", session: s)
        #expect(inside == ["Tests/StepwiseKitTests/Fixtures/builtin/"])
        #expect(completer.complete(lineBefore: "lesson ", word: "lessons/04", session: s) == ["lessons/04-one-head.md"])
    }
}
