import Foundation
import Testing
@testable import StepwiseKit

/// A stand-in pager: records its arguments and what it read, then says so on the terminal.
private final class FakePager {
    let folder: TempFolder
    var script: String { folder.file("pager.sh").path }
    var received: String? { try? String(contentsOf: folder.file("got"), encoding: .utf8) }
    var arguments: [String] {
        ((try? String(contentsOf: folder.file("args"), encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
    }

    init() throws {
        folder = try TempFolder()
        try folder.write("pager.sh", """
            #!/bin/sh
            printf '%s\\n' "$@" > '\(folder.path)/args'
            cat > '\(folder.path)/got'
            echo "FAKE PAGER DONE"

            """)
        chmod(script, 0o755)
    }

    func forget() {
        try? FileManager.default.removeItem(at: folder.file("got"))
    }
}

@Suite("Paging rules")
struct PagingRuleTests {
    @Test("auto pages only output taller than the terminal, counting lines the terminal wraps; never without a terminal")
    func rules() {
        let tall = (0..<30).map { "line \($0)" }
        #expect(Paging.shouldPage(tall, mode: .auto, isTerminal: true, width: 80, height: 24))
        #expect(!Paging.shouldPage(Array(tall.prefix(23)), mode: .auto, isTerminal: true, width: 80, height: 24))
        #expect(Paging.shouldPage(Array(tall.prefix(24)), mode: .auto, isTerminal: true, width: 80, height: 24))
        // 12 lines of 100 columns take 24 rows at 80 columns.
        let wide = Array(repeating: String(repeating: "x", count: 100), count: 12)
        #expect(Paging.rows(wide, width: 80) == 24)
        #expect(Paging.shouldPage(wide, mode: .auto, isTerminal: true, width: 80, height: 24))
        #expect(!Paging.shouldPage(wide, mode: .auto, isTerminal: true, width: 120, height: 24))
        #expect(Paging.shouldPage(["short"], mode: .on, isTerminal: true, width: 80, height: 24))
        #expect(!Paging.shouldPage(tall, mode: .off, isTerminal: true, width: 80, height: 24))
        for mode in Paging.Mode.allCases {
            #expect(!Paging.shouldPage(tall, mode: mode, isTerminal: false, width: 80, height: 24))
        }
    }

    @Test("the pager's command line is split into words, never given to a shell; unset means less, blank or cat none")
    func command() {
        #expect(Paging.command(environment: [:]) == Paging.defaultCommand)
        #expect(Paging.command(environment: ["PAGER": "most"]) == ["most"])
        #expect(Paging.command(environment: ["PAGER": "less", "STEPWISE_PAGER": "more -d"]) == ["more", "-d"])
        #expect(Paging.command(environment: ["PAGER": ""]) == nil)
        #expect(Paging.command(environment: ["PAGER": "  cat "]) == nil)
        #expect(Paging.split(#"less -R "-P a b" 'x "y"' c\ d e;rm -rf $HOME `id` |x"#)
                == ["less", "-R", "-P a b", #"x "y""#, "c d", "e;rm", "-rf", "$HOME", "`id`", "|x"])
        #expect(Paging.split(#""a\"b" ''"#) == [#"a"b"#, ""])
        // The default less cannot run a shell or save a file from a stray key; a chosen pager is left alone.
        #expect(Paging.extraEnvironment(for: Paging.defaultCommand) == ["LESSSECURE=1"])
        #expect(Paging.extraEnvironment(for: ["less", "-R"]).isEmpty)
    }
}

@Suite("the pager under a pseudo-terminal at 80x24", .enabled(if: StepwiseBinary.url != nil, "the stepwise binary is not built"))
struct PagerTerminalTests {
    @Test("REPL: tall output goes to $PAGER (words, no shell), short output does not, set pager off|on; batch mode never pages")
    func repl() throws {
        let pager = try FakePager()
        let trap = pager.folder.file("pwned").path
        // A shell would run 'touch'; split into words it is only an argument.
        let env = ["PAGER": "\(pager.script) one 'two words' ;touch \(trap)", "NO_COLOR": "1", "STEPWISE_HISTORY": "/dev/null",
                   "LINES": "", "COLUMNS": ""]
        let pty = try PTY(args: [], environment: env, rows: 24, columns: 80)
        defer { pty.close() }
        #expect(pty.expect("stepwise> "), "no prompt: \(pty.buffer)")
        pty.send("prompt The cat sat on the\r")
        #expect(pty.expect("next token:"), "\(pty.buffer)")
        #expect(pty.expect("stepwise> "))
        #expect(pager.received == nil, "two lines went to the pager")

        pty.buffer = ""
        pty.send("steps all\r")
        #expect(pty.expect("FAKE PAGER DONE"), "steps all (55 lines) was not paged: \(pty.buffer)")
        #expect(pty.expect("stepwise> "))
        let got = pager.received ?? ""
        #expect(got.contains("blocks.1.hook_resid_post") && got.contains("▶"), "the pager got: \(got)")
        #expect(!got.contains("\u{1B}"), "no colour was asked for, yet an escape reached the pager")
        #expect(!pty.buffer.contains("blocks.1.hook_resid_post"), "paged output was printed as well")
        #expect(pager.arguments == ["one", "two words", ";touch", trap], "arguments: \(pager.arguments)")
        #expect(!FileManager.default.fileExists(atPath: trap), "PAGER was run by a shell")

        pager.forget()
        pty.buffer = ""
        pty.send("set pager off\r")
        #expect(pty.expect("pager = off"))
        pty.send("steps all\r")
        #expect(pty.expect("blocks.1.hook_resid_post"), "with the pager off, steps all was not printed: \(pty.buffer)")
        #expect(pty.expect("stepwise> "))
        #expect(pager.received == nil)

        pty.buffer = ""
        // From now on even its own one-line answer goes through the pager.
        pty.send("set pager on\r")
        #expect(pty.expect("FAKE PAGER DONE"), "\(pty.buffer)")
        #expect(pager.received == "pager = on\n")
        #expect(pty.expect("stepwise> "))
        pty.buffer = ""
        pty.send("where\r")
        #expect(pty.expect("FAKE PAGER DONE"), "set pager on did not page a short output: \(pty.buffer)")
        #expect(pager.received?.hasPrefix("step 1 of 48") == true)
        pty.send("quit\r")
        pty.waitForExit()

        // Not a terminal: never paged.
        pager.forget()
        let (status, out, _) = try StepwiseBinary.run(["-e", "prompt The cat sat on the", "-e", "set pager on", "-e", "steps all"],
                                                      environment: ["PAGER": pager.script])
        #expect(status == 0)
        #expect(out.contains("blocks.1.hook_resid_post"))
        #expect(pager.received == nil, "batch mode paged")
    }

    @Test("a lesson step taller than the terminal goes through the pager, and its key hint follows; colour codes pass to it")
    func lesson() throws {
        let pager = try FakePager()
        let env = ["PAGER": pager.script, "STEPWISE_HISTORY": "/dev/null", "LINES": "", "COLUMNS": "", "NO_COLOR": ""]
        let pty = try PTY(args: ["lesson", "lessons/04-one-head.md", "--color", "always"], environment: env, rows: 24, columns: 80)
        defer { pty.close() }
        #expect(pty.expect("[Enter] next"), "\(pty.buffer)")
        #expect(pager.received == nil, "the first step fits, yet it was paged")
        pty.buffer = ""
        pty.send(" ")
        #expect(pty.expect("FAKE PAGER DONE"), "the step with two tables was not paged: \(pty.buffer)")
        #expect(pty.expect("[Enter] next"), "no key hint after the pager: \(pty.buffer)")
        let got = pager.received ?? ""
        #expect(got.contains("show q 0[:, 0, :6]") && got.contains("blocks.0.attn.hook_k"), "the pager got: \(got)")
        #expect(got.contains("\u{1B}[38;5;"), "colour codes did not reach the pager")
        pty.send("q")
        #expect(pty.expect("stepwise> "))
        pty.send("quit\r")
        pty.waitForExit()
    }
}
