import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// The `stepwise` executable built beside this test bundle.
enum StepwiseBinary {
    static var url: URL? {
        var dir = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        for _ in 0..<4 {
            let candidate = dir.appendingPathComponent("stepwise")
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
            dir = dir.deletingLastPathComponent()
        }
        for config in ["release", "debug"] {
            let u = TestPaths.repoRoot.appendingPathComponent(".build/\(config)/stepwise")
            if FileManager.default.isExecutableFile(atPath: u.path) { return u }
        }
        return nil
    }

    /// Runs the binary with arguments and stdin text (not a terminal); returns status, stdout, stderr.
    static func run(_ args: [String], stdin: String = "", environment: [String: String] = [:]) throws -> (Int32, String, String) {
        let p = Process()
        p.executableURL = url!
        p.arguments = args
        var env = ProcessInfo.processInfo.environment
        env["COLUMNS"] = "80"
        for (k, v) in environment { env[k] = v }
        p.environment = env
        p.currentDirectoryURL = TestPaths.repoRoot
        let inPipe = Pipe(), outPipe = Pipe(), errPipe = Pipe()
        p.standardInput = inPipe
        p.standardOutput = outPipe
        p.standardError = errPipe
        let read = try Child.run(p, input: (inPipe, Data(stdin.utf8)), reading: [outPipe, errPipe],
                                 what: "stepwise \(args.joined(separator: " "))")
        return (p.terminationStatus, String(decoding: read[0], as: UTF8.self), String(decoding: read[1], as: UTF8.self))
    }
}

@Suite("stepwise executable", .enabled(if: StepwiseBinary.url != nil, "the stepwise binary is not built"))
struct ProcessTests {
    @Test("plain mode: no prompt, no colour, stops at the first failing command with status 1")
    func batchStopsAtFailure() throws {
        let (status, out, err) = try StepwiseBinary.run([], stdin: "prompt The cat sat\nnosuchcommand\ntokens\n")
        #expect(status == 1)
        #expect(out.contains("next token:"))
        #expect(!out.contains("stepwise>"))
        #expect(!out.contains("\u{1B}["))
        #expect(err.contains("unknown command 'nosuchcommand'"))
        #expect(!out.contains("pos  id"), "tokens ran after the failure")
    }

    @Test("a child that never ends is killed at its deadline and fails its test, instead of holding up the run")
    func childDeadline() throws {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/sleep")
        p.arguments = ["600"]
        let out = Pipe()
        p.standardOutput = out
        withKnownIssue { _ = try Child.run(p, reading: [out], within: 1, what: "sleep 600") }
        #expect(!p.isRunning && p.terminationReason == .uncaughtSignal)
    }

    @Test("-e runs commands in order and exits 0")
    func dashE() throws {
        let (status, out, _) = try StepwiseBinary.run(["-e", "prompt Hello there", "-e", "tokens"])
        #expect(status == 0)
        #expect(out.contains("tokens"))
    }

    @Test("a full disk on standard output is one error line and status 1, not a crash")
    func fullStdout() throws {
        guard FileManager.default.fileExists(atPath: "/dev/full") else { return }
        let p = Process()
        p.executableURL = StepwiseBinary.url!
        p.arguments = ["-e", "help"]
        p.standardOutput = FileHandle(forWritingAtPath: "/dev/full")
        let err = Pipe()
        p.standardError = err
        let text = String(decoding: try Child.run(p, reading: [err], what: "stepwise \(p.arguments ?? [])")[0], as: UTF8.self)
        #expect(p.terminationReason == .exit && p.terminationStatus == 1)
        #expect(text == "error: cannot write to standard output: No space left on device\n", "\(text)")
    }

    @Test("a closed pipe on standard output is one error line and status 1 (SIGPIPE is ignored)")
    func closedPipe() throws {
        let p = Process()
        p.executableURL = StepwiseBinary.url!
        p.arguments = ["-e", "prompt The cat sat", "-e", "show logits", "-e", "help"]
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try out.fileHandleForReading.close()
        let text = String(decoding: try Child.run(p, reading: [err], what: "stepwise \(p.arguments ?? [])")[0], as: UTF8.self)
        #expect(p.terminationReason == .exit && p.terminationStatus == 1)
        #expect(text == "error: cannot write to standard output: Broken pipe\n", "\(text)")
    }

    @Test("export ~/FILE never replaces an existing file without --force (~ is expanded before the check)")
    func tildeExport() throws {
        let home = FileManager.default.temporaryDirectory.appendingPathComponent("stepwise-home-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: home, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: home) }
        try Data("keep\n".utf8).write(to: home.appendingPathComponent("k.json"))
        let (status, _, err) = try StepwiseBinary.run(["-e", "prompt The cat", "-e", "export logits ~/k.json"], environment: ["HOME": home.path])
        #expect(status == 1)
        #expect(err == "error: '~/k.json' exists; add --force to overwrite it\n", "\(err)")
        #expect(try Data(contentsOf: home.appendingPathComponent("k.json")) == Data("keep\n".utf8))
        #expect(try FileManager.default.contentsOfDirectory(atPath: home.path) == ["k.json"])
    }

    @Test("a script saved with a byte-order mark runs its first command")
    func bomScript() throws {
        let (status, out, err) = try StepwiseBinary.run([], stdin: "\u{FEFF}prompt The cat\ntokens\n")
        #expect(status == 0, "\(err)")
        #expect(out.contains("next token:") && out.contains("piece"), "\(out)")
        #expect(err.isEmpty)
    }

    @Test("--model with a missing path is one clear error line and status 1")
    func missingModel() throws {
        let (status, out, err) = try StepwiseBinary.run(["--model", "/nonexistent/model", "-e", "info"])
        #expect(status == 1)
        #expect(out.isEmpty)
        #expect(err.split(separator: "\n").count == 1)
        #expect(err.contains("/nonexistent/model"))
    }
}

/// The stepwise binary on a pseudo-terminal of a given size: keys in, everything it draws collected.
final class PTY {
    let master: Int32
    let process: Process
    var buffer = ""

    /// - Parameters:
    ///   - pixelWidth, pixelHeight: the window's size in pixels, as a terminal that draws pictures reports it (0: unknown).
    init(args: [String], environment: [String: String], rows: UInt16 = 40, columns: UInt16 = 100,
         pixelWidth: UInt16 = 0, pixelHeight: UInt16 = 0) throws {
        var m: Int32 = 0, s: Int32 = 0
        var ws = winsize(ws_row: rows, ws_col: columns, ws_xpixel: pixelWidth, ws_ypixel: pixelHeight)
        guard openpty(&m, &s, nil, nil, &ws) == 0 else { throw StepwiseTestError("openpty failed") }
        master = m
        process = Process()
        process.executableURL = StepwiseBinary.url!
        process.arguments = args
        var env = ProcessInfo.processInfo.environment
        env["TERM"] = "xterm"
        env.removeValue(forKey: "COLUMNS")
        for (k, v) in environment { env[k] = v }
        process.environment = env
        process.currentDirectoryURL = TestPaths.repoRoot
        let slave = FileHandle(fileDescriptor: s, closeOnDealloc: true)
        process.standardInput = slave
        process.standardOutput = slave
        process.standardError = slave
        try process.run()
        let flags = fcntl(master, F_GETFL)
        _ = fcntl(master, F_SETFL, flags | O_NONBLOCK)
    }

    func send(_ text: String) {
        _ = text.utf8CString.withUnsafeBufferPointer { write(master, $0.baseAddress, $0.count - 1) }
    }

    /// Reads until `needle` appears (or the timeout passes); returns whether it appeared.
    @discardableResult
    func expect(_ needle: String, timeout: Double = 20) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        var buf = [UInt8](repeating: 0, count: 4096)
        while Date() < deadline {
            let n = read(master, &buf, buf.count)
            if n > 0 { buffer += String(decoding: buf[0..<n], as: UTF8.self) }
            if buffer.contains(needle) { return true }
            if n <= 0 { usleep(20_000) }
        }
        return false
    }

    /// Waits for the process to leave by itself (after `quit` or Ctrl-D); the test fails if it does not
    /// within `seconds`, and the process is killed.
    func waitForExit(within seconds: Double = 30, sourceLocation: SourceLocation = #_sourceLocation) {
        Child.wait(process, within: seconds, what: "stepwise \(process.arguments ?? []) under a pseudo-terminal",
                   sourceLocation: sourceLocation)
    }

    func close() {
        if process.isRunning { process.terminate() }
        if !Child.leaves(process, within: 10) { Child.killNow(process) }
        Glibc.close(master)
    }
}

/// Drives the real line editor under a pseudo-terminal.
@Suite("line editor under a pseudo-terminal", .enabled(if: StepwiseBinary.url != nil, "the stepwise binary is not built"))
struct PTYTests {
    @Test("a lesson from the shell: every pause shows its keys, one key press (no Enter) moves, Ctrl-C stays, a quiz takes 'a' then an answer, q leaves to the REPL")
    func lessonKeys() throws {
        let pty = try PTY(args: ["lesson", "lessons/02-tokens.md"], environment: ["NO_COLOR": "1", "STEPWISE_HISTORY": "/dev/null", "PAGER": ""])
        defer { pty.close() }
        #expect(pty.expect("[Enter] next  [b] back  [q] quit to the REPL"), "no key hint: \(pty.buffer)")
        pty.buffer = ""
        pty.send("\u{03}")  // Ctrl-C at a pause: still in the lesson
        #expect(pty.expect("still in the lesson"), "\(pty.buffer)")
        #expect(pty.process.isRunning)
        // Three single keys, no Enter, reach the quiz.
        for _ in 0..<3 {
            pty.buffer = ""
            pty.send(" ")
            #expect(pty.expect("quit to the REPL"), "\(pty.buffer)")
        }
        #expect(pty.buffer.contains("Quiz: In the prompt, ' Pemberley'") && pty.buffer.contains("[a] answer"), "\(pty.buffer)")
        // 'b' and 'q' are keys at a quiz, not answers; 'a' opens the answer line.
        pty.buffer = ""
        pty.send("a")
        #expect(pty.expect("your answer> "))
        pty.send("3\r")
        #expect(pty.expect("Correct."), "\(pty.buffer)")
        pty.buffer = ""
        pty.send("q")
        #expect(pty.expect("stepwise> "), "q did not leave to the REPL: \(pty.buffer)")
        pty.send("where\r")
        #expect(pty.expect("step "), "the REPL lacks the lesson's state: \(pty.buffer)")
        pty.send("quit\r")
        pty.waitForExit()
        #expect(pty.process.terminationStatus == 0)
    }

    @Test("history is written after every line and read back; tab completes commands; Ctrl-C keeps the session; Ctrl-D exits cleanly")
    func historyAndCompletion() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("stepwise-pty-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        // The history goes under $HOME when STEPWISE_HISTORY is not set.
        let history = dir.appendingPathComponent(".stepwise_history").path
        let env = ["STEPWISE_HISTORY": "", "HOME": dir.path, "NO_COLOR": "1", "PAGER": ""]

        let first = try PTY(args: [], environment: env)
        #expect(first.expect("stepwise> "), "no prompt: \(first.buffer)")
        // Tab completes 'toke' to 'tokens', which then runs (and says there is no prompt yet).
        first.send("toke\t\r")
        #expect(first.expect("no prompt yet"), "tab did not complete 'toke': \(first.buffer)")
        first.send("prompt The cat sat\r")
        #expect(first.expect("next token:"), "prompt did not run: \(first.buffer)")
        #expect(first.expect("stepwise> "))
        // Written already, before the process ends.
        let saved = (try? String(contentsOfFile: history, encoding: .utf8)) ?? ""
        // One line per command, each written once.
        let lines = saved.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
        #expect(lines == ["tokens", "prompt The cat sat"], "history file: \(saved)")
        // Ctrl-C abandons a half-typed line and the REPL stays, with its prompt and trace.
        first.send("half typed\u{03}")
        usleep(300_000)
        first.send("where\r")
        #expect(first.expect("step 1 of"), "the REPL did not survive Ctrl-C: \(first.buffer)")
        first.send("\u{04}")  // Ctrl-D
        first.waitForExit()
        #expect(first.process.terminationStatus == 0)
        first.close()

        let second = try PTY(args: [], environment: env)
        #expect(second.expect("stepwise> "))
        second.send("\u{1B}[A")  // Up arrow: the last line of the previous run
        #expect(second.expect("prompt The cat sat"), "history not recalled: \(second.buffer)")
        second.send("\u{15}quit\r")
        second.waitForExit()
        #expect(second.process.terminationStatus == 0)
        second.close()
    }
}

struct StepwiseTestError: Error, CustomStringConvertible {
    var description: String
    init(_ d: String) { description = d }
}
