import Foundation
import Testing
@testable import StepwiseKit

@Suite("Hostile export")
struct HostileExportTests {
    let interp = StandardCommands.interpreter()

    func session(_ t: TempFolder) throws -> Session {
        var s = Session()
        try s.load(path: t.path)
        guard case .output = interp.execute("prompt the cat sat", in: &s, context: CommandContext()) else {
            throw StepwiseError.usage("prompt failed")
        }
        return s
    }

    /// Files in a folder whose names look like export temp files.
    func leftovers(_ dir: URL) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []).filter { $0.hasSuffix(".tmp") }
    }

    @Test("export never overwrites without --force: the existing file is untouched byte for byte", arguments: ["json", "npy", "csv"])
    func noOverwrite(_ ext: String) throws {
        let t = try HostileFixtures.gpt2Folder()
        var s = try session(t)
        let original = Data((0..<1000).map { UInt8(truncatingIfNeeded: $0 &* 7) })
        try original.write(to: t.file("out.\(ext)"))
        let ctx = CommandContext(baseDirectory: t.path)
        guard case .failure(let line) = interp.execute("export logits out.\(ext)", in: &s, context: ctx) else {
            Issue.record("export over an existing file should fail"); return
        }
        #expect(line.contains("exists; add --force"), "\(line)")
        #expect(try t.read("out.\(ext)") == original)
        #expect(leftovers(t.url).isEmpty)
        // With --force it is replaced, whole.
        let forced = interp.execute("export logits out.\(ext) --force", in: &s, context: ctx)
        guard case .output = forced else {
            Issue.record("export --force failed: \(forced)"); return
        }
        let written = try t.read("out.\(ext)")
        #expect(written != original && !written.isEmpty)
        #expect(leftovers(t.url).isEmpty)
    }

    @Test("export into a read-only folder fails, leaving neither the file nor a temp file")
    func readOnlyFolder() throws {
        // root ignores permission bits, so the check is only meaningful for other users.
        let t = try HostileFixtures.gpt2Folder()
        var s = try session(t)
        let ro = t.file("ro")
        try FileManager.default.createDirectory(at: ro, withIntermediateDirectories: false)
        try FileManager.default.setAttributes([.posixPermissions: 0o555], ofItemAtPath: ro.path)
        let outcome = interp.execute("export logits ro/x.json", in: &s, context: CommandContext(baseDirectory: t.path))
        if getuid() == 0 {
            // As root the write succeeds; it must still be whole and leave no temp file.
            #expect(leftovers(ro).isEmpty)
        } else {
            guard case .failure(let line) = outcome else { Issue.record("export into a read-only folder should fail"); return }
            #expect(line.contains("cannot write"), "\(line)")
            #expect(!line.contains("\n"))
            #expect(((try? FileManager.default.contentsOfDirectory(atPath: ro.path)) ?? []).isEmpty)
        }
    }

    @Test("export whose rename fails (target is a non-empty folder) leaves no temp file")
    func renameFails() throws {
        let t = try HostileFixtures.gpt2Folder()
        var s = try session(t)
        try FileManager.default.createDirectory(at: t.file("dir.json"), withIntermediateDirectories: false)
        try t.write("dir.json/keep", "x")
        guard case .failure(let line) = interp.execute("export logits dir.json --force", in: &s, context: CommandContext(baseDirectory: t.path)) else {
            Issue.record("export onto a folder should fail"); return
        }
        #expect(line.contains("is a directory"), "\(line)")
        #expect(leftovers(t.url).isEmpty)
        #expect(try String(contentsOf: t.file("dir.json/keep"), encoding: .utf8) == "x")
    }

    @Test("export into a missing folder fails and creates nothing")
    func missingFolder() throws {
        let t = try HostileFixtures.gpt2Folder()
        var s = try session(t)
        guard case .failure(let line) = interp.execute("export logits nope/x.json", in: &s, context: CommandContext(baseDirectory: t.path)) else {
            Issue.record("export into a missing folder should fail"); return
        }
        #expect(line.contains("does not exist"), "\(line)")
        #expect(!FileManager.default.fileExists(atPath: t.file("nope").path))
        #expect(leftovers(t.url).isEmpty)
    }

    @Test("the temp file's name cannot be planted: a folder at the old predictable name does not stop the write")
    func writerIgnoresPlantedNames() throws {
        let t = try TempFolder()
        try FileManager.default.createDirectory(at: t.file(".x.json.\(ProcessInfo.processInfo.processIdentifier).tmp"), withIntermediateDirectories: false)
        try Exporter.write(Data("{}".utf8), to: t.file("x.json").path, force: false)
        #expect(try t.read("x.json") == Data("{}".utf8))
        #expect(leftovers(t.url) == [".x.json.\(ProcessInfo.processInfo.processIdentifier).tmp"])
    }
}
