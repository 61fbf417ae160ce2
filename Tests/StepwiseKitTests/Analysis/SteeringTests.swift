import Foundation
import Testing
@testable import StepwiseKit

/// A float32 .npy file's bytes (version 1), with a header NumPy would write, or a chosen one.
func npyBytes(_ values: [Float], header: String? = nil, major: UInt8 = 1) -> Data {
    var h = header ?? "{'descr': '<f4', 'fortran_order': False, 'shape': (\(values.count),), }"
    let pre = major == 1 ? 10 : 12
    while (pre + h.utf8.count + 1) % 64 != 0 { h += " " }
    h += "\n"
    var d = Data([0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59, major, 0])
    let n = h.utf8.count
    d.append(contentsOf: major == 1 ? [UInt8(n & 0xFF), UInt8(n >> 8)] : [UInt8(n & 0xFF), UInt8((n >> 8) & 0xFF), 0, 0])
    d.append(contentsOf: Array(h.utf8))
    for v in values { withUnsafeBytes(of: v.bitPattern.littleEndian) { d.append(contentsOf: $0) } }
    return d
}

@Suite("steering", .serialized, .enabled(if: ModelLoader.builtinPath != nil, "the built-in model is missing"))
struct SteeringTests {
    static func builtin() throws -> any LanguageModel {
        guard case .model(let m) = try ModelLoader.load(nil) else { throw StepwiseError(.model, "no built-in model") }
        return m
    }

    static func session() throws -> Session {
        var s = Session()
        let model = try builtin()
        s.model = model
        s.tokenizer = model.tokenizer
        s.settings.width = 80
        return s
    }

    static let prompt = "I think that you are"

    @Test("the vector is the mean over positions of A's activation minus B's, from the unmodified model")
    func vector() throws {
        let model = try Self.builtin()
        let tok = model.tokenizer
        let a = try tok.encodeForModel(" love"), b = try tok.encodeForModel("I hate it")
        let v = try Steering.direction(model: model, a: a, b: b, hook: .residPre(layer: 1))
        let ta = try model.trace(a)["blocks.1.hook_resid_pre"]!.tensor, tb = try model.trace(b)["blocks.1.hook_resid_pre"]!.tensor
        #expect(v.shape == [model.info.dModel])
        for i in 0..<model.info.dModel {
            let ma = (0..<a.count).map { ta[$0, i] }.reduce(0, +) / Float(a.count)
            let mb = (0..<b.count).map { tb[$0, i] }.reduce(0, +) / Float(b.count)
            #expect(abs(v.data[i] - (ma - mb)) <= 1e-5)
        }
        // A head hook keeps its head axis.
        #expect(try Steering.direction(model: model, a: a, b: b, hook: .z(layer: 0)).shape == [model.info.heads, model.info.dHead])
    }

    @Test("a steer at a hook changes nothing before it, changes the hook, and equals a manual add patch")
    func nothingBefore() throws {
        let model = try Self.builtin()
        var s = try Self.session()
        _ = run("prompt \(Self.prompt)", &s)
        let out = run("steer resid_pre 1 \" love\" \" hate\" 4", &s)
        #expect(!out.failed, "\(out.lines)")
        #expect(out.lines[0].hasPrefix("steering blocks.1.hook_resid_pre += 4 × (\" love\" − \" hate\")"), "\(out.lines)")
        guard case .steer(let v) = try #require(s.interventions.first) else { Issue.record("no steer"); return }
        let ids = s.ids
        let plain = try model.trace(ids)
        let steered = try #require(s.trace)
        let manual = try model.trace(ids, options: ForwardOptions(patches: [Patch(.residPre(layer: 1), .add(v.added))]))
        let at = try #require(plain.steps.firstIndex { $0.name == "blocks.1.hook_resid_pre" })
        #expect(plain.steps.map(\.name) == steered.steps.map(\.name))
        for i in 0..<at { #expect(plain.steps[i].tensor == steered.steps[i].tensor, "\(plain.steps[i].name) changed") }
        let added = zip(steered.steps[at].tensor.data, plain.steps[at].tensor.data).map { $0 - $1 }
        for p in 0..<ids.count {
            for i in 0..<model.info.dModel { #expect(abs(added[p * model.info.dModel + i] - v.added.data[i]) <= 1e-4) }
        }
        #expect(steered.logits! == manual.logits!)
        #expect(steered.logits! != plain.logits!)
        // info and the prompt summary say what is active.
        #expect(run("info", &s).lines.contains { $0.hasPrefix("interventions") && $0.contains("steering: blocks.1.hook_resid_pre") })
        #expect(run("prompt \(Self.prompt)", &s).lines[0].hasSuffix("(with steering at blocks.1.hook_resid_pre)"))
        // restore removes it; the model is as before.
        let r = run("restore", &s).lines
        #expect(r[0].hasPrefix("removed every steering vector") && r[1] == "nothing is steered or ablated now", "\(r)")
        #expect(s.interventions.isEmpty && s.trace!.logits! == plain.logits!)
    }

    @Test("the steer persists through KV-cached generation: each token is the greedy pick of a full steered pass")
    func generation() throws {
        let model = try Self.builtin()
        let tok = model.tokenizer
        let v = Steering.Vector(hook: .residPre(layer: 1),
                                direction: try Steering.direction(model: model, a: tok.encodeForModel(" love"), b: tok.encodeForModel(" hate"),
                                                                  hook: .residPre(layer: 1)),
                                scale: 6, source: "test")
        let opts = ForwardOptions(record: false, interventions: [.steer(v)])
        let settings = try SamplingSettings(temperature: 0)
        let prompt = try tok.encodeForModel(Self.prompt)
        let steered = try Generator(model: model, settings: settings, options: opts).generate(prompt: prompt, maxTokens: 10) { _ in }
        let plain = try Generator(model: model, settings: settings).generate(prompt: prompt, maxTokens: 10) { _ in }
        #expect(steered.generated != plain.generated)
        // One uncached pass over prompt + generated, steered at every position, predicts every generated token.
        let all = prompt + steered.generated
        let full = try model.trace(Array(all.dropLast()), options: opts).logits!
        for (i, id) in steered.generated.enumerated() {
            let row = full.row(prompt.count - 1 + i).data
            #expect(row.indices.max { row[$0] < row[$1] } == id, "token \(i)")
        }
    }

    @Test("a seeded generate with and without a steer: the same text each time, different with the steer, back after restore")
    func seededGenerate() throws {
        var s = try Self.session()
        func text(_ lines: [String]) -> String { lines.first { $0.hasPrefix("text: ") } ?? "<none>" }
        _ = run("set seed 7", &s)
        _ = run("prompt \(Self.prompt)", &s)
        let plain1 = text(run("generate 12", &s).lines)
        _ = run("prompt \(Self.prompt)", &s)
        let plain2 = text(run("generate 12", &s).lines)
        _ = run("steer resid_pre 1 \" love\" \" hate\" 8", &s)
        _ = run("prompt \(Self.prompt)", &s)
        let steered1 = text(run("generate 12", &s).lines)
        _ = run("prompt \(Self.prompt)", &s)
        let steered2 = text(run("generate 12", &s).lines)
        _ = run("restore", &s)
        _ = run("prompt \(Self.prompt)", &s)
        let plain3 = text(run("generate 12", &s).lines)
        #expect(plain1 == plain2 && plain1 == plain3 && plain1 != "<none>")
        #expect(steered1 == steered2 && steered1 != plain1, "\(steered1) vs \(plain1)")
    }

    @Test("steer HOOK FILE.npy SCALE adds SCALE × the file's vector; restore steer keeps ablations")
    func file() throws {
        let model = try Self.builtin()
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("steer-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let values = (0..<model.info.dModel).map { Float($0 % 7) - 3 }
        try npyBytes(values).write(to: dir.appendingPathComponent("v.npy"))
        var s = try Self.session()
        _ = run("prompt \(Self.prompt)", &s)
        _ = run("ablate 0.1", &s)
        let out = run("steer blocks.0.hook_resid_post \(dir.path)/v.npy 0.5", &s)
        #expect(!out.failed, "\(out.lines)")
        let manual = try model.trace(s.ids, options: ForwardOptions(interventions: [.ablateHead(layer: 0, head: 1, mode: .zero)],
                                                                   patches: [Patch(.residPost(layer: 0), .add(Tensor(shape: [values.count], data: values.map { $0 * 0.5 })))]))
        #expect(s.trace!.logits! == manual.logits!)
        _ = run("restore steer", &s)
        #expect(s.interventions == [.ablateHead(layer: 0, head: 1, mode: .zero)])
        // A d_head file fits a z hook (broadcast over heads); a d_model one does not.
        try npyBytes([Float](repeating: 1, count: model.info.dHead)).write(to: dir.appendingPathComponent("h.npy"))
        #expect(!run("steer z 1 \(dir.path)/h.npy 1", &s).failed)
        let wrong = run("steer z 1 \(dir.path)/v.npy 1", &s)
        #expect(wrong.failed && wrong.lines[0].contains("shape (\(model.info.dModel),); the hook's last axis needs shape (\(model.info.dHead),)"), "\(wrong.lines)")
    }

    @Test("hostile .npy files: one clear line each, nothing read past a size bound")
    func hostile() throws {
        let d = 128
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("steer-hostile-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let ok = [Float](repeating: 0.25, count: d)
        var good = npyBytes(ok)
        var bigHeader = Data(npyBytes(ok).prefix(8)); bigHeader.append(contentsOf: [0xFF, 0xFF]); bigHeader.append(Data(count: 200))
        var v2Huge = Data(npyBytes(ok).prefix(6)); v2Huge.append(contentsOf: [2, 0, 0xFF, 0xFF, 0xFF, 0x7F])
        var nan = ok; nan[5] = .nan
        good.append(0)
        let cases: [(String, Data, String)] = [
            ("magic", Data("not numpy at all".utf8), "no \\x93NUMPY magic"),
            ("empty", Data(), "no \\x93NUMPY magic"),
            ("dtype", npyBytes(ok, header: "{'descr': '<f8', 'fortran_order': False, 'shape': (\(d),), }"), "dtype '<f8'"),
            ("bigendian", npyBytes(ok, header: "{'descr': '>f4', 'fortran_order': False, 'shape': (\(d),), }"), "dtype '>f4'"),
            ("fortran", npyBytes(ok, header: "{'descr': '<f4', 'fortran_order': True, 'shape': (\(d),), }"), "Fortran order"),
            ("shape2d", npyBytes(ok, header: "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 64), }"), "shape (2, 64)"),
            ("shape", npyBytes([0.5, 1]), "shape (2,)"),
            ("key", npyBytes(ok, header: "{'descr': '<f4', 'fortran_order': False, 'shape': (\(d),), 'x': 1}"), "unknown key 'x'"),
            ("twice", npyBytes(ok, header: "{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (\(d),)}"), "'descr' twice"),
            ("missing", npyBytes(ok, header: "{'descr': '<f4', 'shape': (\(d),)}"), "without descr"),
            ("garbage", npyBytes(ok, header: "{'descr': '<f4', 'fortran_order': False, 'shape': (\(d),)} junk"), "text after"),
            ("unclosed", npyBytes(ok, header: "{'descr: <f4"), "malformed"),
            ("hugedim", npyBytes(ok, header: "{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999,)}"), "malformed"),
            ("bigheader", bigHeader, "header of 65535 bytes"),
            ("v2huge", v2Huge, "header of"),
            ("version", Data([0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59, 9, 0, 0, 0]), "version 9"),
            ("truncated", npyBytes(ok).dropLast(4), "bytes of data"),
            ("extra", good, "bytes of data"),
            ("huge", Data(count: 1 << 20), "is 1048576 bytes"),
            ("nan", npyBytes(nan), "nan at index 5"),
        ]
        for (name, bytes, want) in cases {
            let url = dir.appendingPathComponent("\(name).npy")
            try bytes.write(to: url)
            do {
                _ = try Steering.readNPY(path: url.path, shownAs: "\(name).npy", count: d)
                Issue.record("\(name): accepted")
            } catch let e as StepwiseError {
                #expect(e.message.contains(want) && !e.message.contains("\n"), "\(name): \(e.message)")
            }
        }
        #expect(try Steering.readNPY(path: { let u = dir.appendingPathComponent("ok.npy"); try? npyBytes(ok).write(to: u); return u.path }(),
                                     shownAs: "ok.npy", count: d).data == ok)
        let v3 = dir.appendingPathComponent("v3.npy")
        try npyBytes(ok, major: 3).write(to: v3)
        #expect(try Steering.readNPY(path: v3.path, shownAs: "v3.npy", count: d).data == ok)
    }

    @Test("inside a lesson the file must lie in the lesson's folder; special files are refused")
    func sandbox() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("steer-lesson-\(UUID().uuidString)")
        let inner = dir.appendingPathComponent("lesson")
        try FileManager.default.createDirectory(at: inner, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        try Data("# L\n".utf8).write(to: inner.appendingPathComponent("l.md"))
        try npyBytes([Float](repeating: 1, count: 128)).write(to: dir.appendingPathComponent("outside.npy"))
        try npyBytes([Float](repeating: 1, count: 128)).write(to: inner.appendingPathComponent("inside.npy"))
        let sb = try LessonSandbox.start(lesson: inner.appendingPathComponent("l.md").path, shownAs: "l.md", mayWrite: false)
        let ctx = CommandContext(width: 80, baseDirectory: sb.folder, sandbox: sb)
        var s = try Self.session()
        let interp = StandardCommands.interpreter()
        let outside = interp.execute("steer resid_pre 1 ../outside.npy 1", in: &s, context: ctx)
        #expect(outside.failed && outside.lines[0].contains("only files inside its own folder"), "\(outside.lines)")
        #expect(!interp.execute("steer resid_pre 1 inside.npy 1", in: &s, context: ctx).failed)
        let dev = interp.execute("steer resid_pre 1 /dev/zero 1", in: &s, context: CommandContext(width: 80))
        #expect(dev.failed && dev.lines[0].contains("not a regular file"), "\(dev.lines)")
    }

    @Test("bad steer lines are clear errors")
    func errors() throws {
        var s = try Self.session()
        for (line, want) in [("steer", "usage: steer"), ("steer resid_pre 1 \"a\" \"b\"", "usage: steer"),
                             ("steer resid_pre 9 \"a\" \"b\" 1", "layer 9 does not exist"),
                             ("steer nosuch \"a\" \"b\" 1", "no hook point 'nosuch'"),
                             ("steer resid_pre 1 \"a\" \"b\" x", "the scale must be a number"),
                             ("steer pattern 0 \"a\" \"b\" 1", "first axis is pos")] {
            let out = run(line, &s)
            #expect(out.failed && out.lines[0].contains(want), "\(line): \(out.lines)")
        }
        #expect(s.interventions.isEmpty)
    }
}

@Suite("compare prompts", .enabled(if: ModelLoader.builtinPath != nil, "the built-in model is missing"))
struct ComparePromptsTests {
    @Test("tokens, top 5 side by side, the 5 heads and residual places that differ most, within 80 columns")
    func compare() throws {
        var s = try SteeringTests.session()
        let out = run("compare prompts \"Mr. Darcy bowed to Miss Bennet, and then Mr. Darcy bowed to Miss\" \"Mr. Darcy bowed to Miss Lucas, and then Mr. Darcy bowed to Miss\"", &s, width: 80)
        #expect(!out.failed, "\(out.lines)")
        let l = out.lines
        // Each prompt's tokens wrap under it, never cutting a token.
        #expect(l[0].hasPrefix("A: 18 tokens: 'Mr' '.' ' Darcy'") && l.contains { $0.hasPrefix("B: 18 tokens: 'Mr'") })
        let tokens = l.prefix { !$0.isEmpty }.map { $0.trimmingCharacters(in: .whitespaces) }.joined(separator: " ")
        #expect(tokens.contains("' and' ' then' ' Mr' '.' ' Darcy' ' b' 'owed' ' to' ' Miss' B: 18"), "\(tokens)")
        #expect(l.allSatisfy { TextWidth.of($0) <= 80 }, "\(l.filter { TextWidth.of($0) > 80 })")
        let rank1 = try #require(l.firstIndex { $0.hasPrefix("   1  ") })
        #expect(l[rank1].contains("' Bingley'") && l[rank1].contains("' Lucas'"))
        let heads = try #require(l.firstIndex { $0.hasPrefix("Heads whose patterns differ most: TV") })
        #expect(l[heads + 3].hasPrefix("  1.0 "), "\(l[heads + 3])")
        let resid = try #require(l.firstIndex { $0.hasPrefix("Residual stream (hook_resid_post)") })
        #expect(l[resid + 3].contains("' Bennet'/' Lucas'"), "\(l[resid + 3])")
        #expect(s.trace == nil, "compare prompts changed the session")
        // compare SETTING A B still works.
        _ = run("prompt The cat", &s)
        #expect(run("compare temperature 0.5 1.5", &s).lines[0].hasPrefix("A: "))
        #expect(run("compare prompts \"a\"", &s).lines[0].contains("usage: compare prompts"))
    }
}
