#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import StepwiseKit

/// Output taller than the terminal, shown through a pager (``Paging`` decides when and which).
///
/// The pager is started with `posix_spawnp` from its words, never through a shell, and reads the lines
/// on a pipe. Each line passes ``Console/printable(_:)`` (the ``TerminalText`` chokepoint) first, so the
/// pager receives exactly what the terminal would have.
enum Pager {
    /// Prints `lines` on standard output, through the pager when ``Paging/shouldPage`` says so.
    /// - Parameter reserve: rows to leave free below the output (the prompt, or a lesson's key hint).
    static func print(_ lines: [String], mode: Paging.Mode, reserve: Int = 1) {
        let terminal = Terminal.isInteractive
        guard Paging.shouldPage(lines, mode: mode, isTerminal: terminal, width: Terminal.width,
                                height: Terminal.height, reserve: reserve),
              let words = Paging.command(environment: ProcessInfo.processInfo.environment),
              run(words, lines.map(Console.printable))
        else {
            lines.forEach(Console.print)
            return
        }
    }

    /// A pager that could not be started is said once per run, then output is printed directly.
    nonisolated(unsafe) private static var warned = false

    /// Runs the pager on `lines`; false if it could not be started (nothing was shown).
    private static func run(_ words: [String], _ lines: [String]) -> Bool {
        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0 else { return false }
        let (readEnd, writeEnd) = (fds[0], fds[1])
        // The write end must not leak into the pager, or it would never see end of input.
        _ = fcntl(writeEnd, F_SETFD, FD_CLOEXEC)

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, readEnd, STDIN_FILENO)
        posix_spawn_file_actions_addclose(&actions, readEnd)

        let argv: [UnsafeMutablePointer<CChar>?] = words.map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        let extra = Paging.extraEnvironment(for: words)
        let inherited = ProcessInfo.processInfo.environment
            .filter { key, _ in !extra.contains { $0.hasPrefix(key + "=") } }.map { "\($0)=\($1)" }
        let envp: [UnsafeMutablePointer<CChar>?] = (inherited + extra).map { strdup($0) } + [nil]
        defer { envp.forEach { free($0) } }
        var pid: pid_t = 0
        let status = posix_spawnp(&pid, argv[0]!, &actions, nil, argv, envp)
        close(readEnd)
        guard status == 0 else {
            close(writeEnd)
            if !warned {
                warned = true
                Console.error("note: the pager '\(TerminalText.visible(words[0]))' could not be started (\(String(cString: strerror(status)))); printing directly ('set pager off' stops trying)")
            }
            return false
        }
        // The pager may quit before reading everything (q at the first screen): a closed pipe ends the
        // writing, nothing more (SIGPIPE is ignored).
        var bytes = Array(lines.map { $0 + "\n" }.joined().utf8)[...]
        while !bytes.isEmpty {
            let n = bytes.withUnsafeBytes { write(writeEnd, $0.baseAddress!, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                break
            }
            bytes = bytes.dropFirst(n)
        }
        close(writeEnd)
        var waitStatus: Int32 = 0
        while waitpid(pid, &waitStatus, 0) < 0 && errno == EINTR {}
        return true
    }
}
