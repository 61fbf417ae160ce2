import Foundation

// libFuzzer entry point for every Stepwise parser. One binary, the target chosen by the
// STEPWISE_FUZZ_TARGET environment variable (safetensors, gguf, tokenizer-json, config-json, lesson,
// repl, lesson-sandbox),
// so the library is compiled once. See README.md.

/// The target named in the environment, read once.
nonisolated(unsafe) private var target: String = ""
/// Scratch folder for file-based targets (one per process).
nonisolated(unsafe) private var scratch: String = ""
/// REPL target: the interpreter and a session with a model loaded.
nonisolated(unsafe) private var replBase: Session?
nonisolated(unsafe) private var interpreter: Interpreter?

@_cdecl("LLVMFuzzerInitialize")
public func fuzzInitialize(_ argc: UnsafeMutablePointer<Int32>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>) -> Int32 {
    target = ProcessInfo.processInfo.environment["STEPWISE_FUZZ_TARGET"] ?? ""
    guard ["safetensors", "gguf", "tokenizer-json", "config-json", "lesson", "repl", "lesson-sandbox"].contains(target) else {
        fatalError("set STEPWISE_FUZZ_TARGET to safetensors, gguf, tokenizer-json, config-json, lesson, repl or lesson-sandbox")
    }
    scratch = NSTemporaryDirectory() + "stepwise-fuzz-\(getpid())"
    try? FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
    if target == "lesson-sandbox" { sandboxSetUp() }
    if target == "repl" || target == "lesson-sandbox" {
        guard let model = ProcessInfo.processInfo.environment["STEPWISE_FUZZ_MODEL"] else {
            fatalError("the repl target needs STEPWISE_FUZZ_MODEL=<folder with config.json, model.safetensors, vocab.json, merges.txt>")
        }
        var s = Session()
        do { try s.load(path: model) } catch { fatalError("cannot load \(model): \(error)") }
        interpreter = StandardCommands.interpreter()
        _ = interpreter!.execute("prompt 1 2 3", in: &s, context: CommandContext(width: 80))
        replBase = s
    }
    return 0
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTestOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let bytes = Data(bytes: data, count: size)
    switch target {
    case "safetensors": fuzzSafetensors(bytes)
    case "gguf": fuzzGGUF(bytes)
    case "tokenizer-json": fuzzTokenizerJSON(bytes)
    case "config-json": fuzzConfigJSON(bytes)
    case "lesson": fuzzLesson(bytes)
    case "repl": fuzzREPL(bytes)
    case "lesson-sandbox": fuzzLessonSandbox(bytes)
    default: break
    }
    return 0
}

private func writeScratch(_ name: String, _ bytes: Data) -> String {
    let path = scratch + "/" + name
    FileManager.default.createFile(atPath: path, contents: bytes)
    return path
}

/// Opens the input as a safetensors file and reads every tensor.
private func fuzzSafetensors(_ bytes: Data) {
    let path = writeScratch("input.safetensors", bytes)
    guard let f = try? SafetensorsFile(path: path) else { return }
    for name in f.tensorNames {
        _ = f.tensorInfo(name)
        _ = try? f.tensor(name)
    }
}

/// Opens the input as a GGUF file, reads every tensor, builds the tokenizer from its metadata.
private func fuzzGGUF(_ bytes: Data) {
    let path = writeScratch("input.gguf", bytes)
    guard let f = try? GGUFFile(path: path) else { return }
    for name in f.tensorNames {
        _ = f.tensorInfo(name)
        _ = try? f.tensor(name)
    }
    if let tok = try? GGUFModels.tokenizer(f) {
        if let ids = try? tok.encode("Hello world 123, ok!") { _ = tok.decode(ids) }
    }
}

/// Loads the tokenizer of a folder holding the input as tokenizer.json (byte-level BPE, SentencePiece BPE
/// or Unigram, as `ModelLoader` picks it), then encodes, explains and decodes a string.
private func fuzzTokenizerJSON(_ bytes: Data) {
    _ = writeScratch("tokenizer.json", bytes)
    guard let tok = try? ModelLoader.tokenizer(in: scratch, family: nil) else { return }
    let text = "Hello  world 123, <|endoftext|> ok! <extra_id_0></s> x <mask>y naïve ｶﾞ ☃ \u{1F600}\t\n"
    if let ids = try? tok.encodeForModel(text) {
        _ = tok.decode(ids)
        for id in ids.prefix(16) { _ = tok.label(for: id) }
    }
    _ = try? tok.explain(text)
}

/// Reads the input as a config.json (strict JSON tree, then the GPT-2, Llama and BERT configs through the
/// tree decoder) and as a WordPiece tokenizer.json.
private func fuzzConfigJSON(_ bytes: Data) {
    let path = writeScratch("config.json", bytes)
    _ = try? ConfigFile.decode(GPT2Config.self, path: path, family: "GPT-2")
    _ = try? ConfigFile.decode(LlamaConfig.self, path: path, family: "Llama")
    _ = try? ConfigFile.decode(BERTConfig.self, path: path, family: "BERT")
    _ = try? BARTConfig(configPath: path)
    _ = try? T5Config(configPath: path)
    if let tok = try? WordPiece(tokenizerJSON: path), let ids = try? tok.encode("Hello world, ok!") { _ = tok.decode(ids) }
}

/// Parses the input as lesson Markdown.
private func fuzzLesson(_ bytes: Data) {
    guard let text = String(data: bytes, encoding: .utf8) else { return }
    _ = try? LessonParser.parse(text: text, file: "fuzz.md")
}

/// Runs each line of the input as a REPL command on a fresh copy of a session with a model and a prompt.
private func fuzzREPL(_ bytes: Data) {
    guard let text = String(data: bytes, encoding: .utf8), var session = replBase, let interpreter else { return }

    let context = CommandContext(width: 80, baseDirectory: scratch)
    for line in text.split(separator: "\n", omittingEmptySubsequences: false).prefix(8) {
        let l = String(line)
        // Commands that touch the file system outside the scratch folder or block are skipped.
        let word = l.trimmingCharacters(in: .whitespaces).prefix { !$0.isWhitespace }
        if ["load", "lesson", "lessons", "record", "quit", "exit", "q"].contains(String(word)) { continue }
        // `export` writes only inside the scratch folder: no absolute paths, no parent folders.
        if word == "export", l.contains("/") || l.contains("~") || l.contains("..") { continue }
        _ = interpreter.execute(l, in: &session, context: context)

    }
}

// MARK: - lesson-sandbox

/// The sandbox target's folders: `lesson/` (where the input is played from, with a link `out` to
/// `../outside`) and `outside/` (a sentinel file that must never change, and nothing may appear).
nonisolated(unsafe) private var sandboxRoot = ""
private let sentinelText = "the teacher's own file\n"
private var sentinel: Data { Data(sentinelText.utf8) }

private func sandboxSetUp() {
    sandboxRoot = scratch + "/sandbox"
    let fm = FileManager.default
    try? fm.createDirectory(atPath: sandboxRoot + "/lesson", withIntermediateDirectories: true)
    try? fm.createDirectory(atPath: sandboxRoot + "/outside", withIntermediateDirectories: true)
    fm.createFile(atPath: sandboxRoot + "/outside/keep.txt", contents: sentinel)
    try? fm.createSymbolicLink(atPath: sandboxRoot + "/lesson/out", withDestinationPath: sandboxRoot + "/outside")
}

private func listing(_ dir: String) -> [String] {
    ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).sorted()
}

/// Plays the input as a lesson (as `stepwise lesson` does), then checks it (as `stepwise check` does),
/// and stops the fuzzer if the lesson wrote outside its folder, replaced a file, wrote anything while
/// checked, or printed a raw control character.
private func fuzzLessonSandbox(_ bytes: Data) {
    guard let text = String(data: bytes, encoding: .utf8), let interpreter,
          let model = ProcessInfo.processInfo.environment["STEPWISE_FUZZ_MODEL"] else { return }
    let lessonDir = sandboxRoot + "/lesson"
    let file = lessonDir + "/fuzz.md"
    let header = text.contains("<!-- model:") ? "" : "<!-- model: \(model) -->\n"
    FileManager.default.createFile(atPath: file, contents: Data((header + text).utf8))
    FileManager.default.createFile(atPath: lessonDir + "/mine.json", contents: sentinel)
    let before = listing(lessonDir)
    var session = Session()
    let context = CommandContext(width: 80, baseDirectory: scratch)
    let outcome = interpreter.execute("lesson \"\(file)\"", in: &session, context: context)
    if case .output(let lines) = outcome {
        for l in lines where l.unicodeScalars.contains(where: { $0 != "\n" && TerminalText.needsEscape($0) }) {
            fatalError("a raw control character reached the output: \(TerminalText.visible(l))")
        }
    }
    guard listing(sandboxRoot + "/outside") == ["keep.txt"],
          (try? MappedFile.data(path: sandboxRoot + "/outside/keep.txt")) == sentinel,
          (try? MappedFile.data(path: lessonDir + "/mine.json")) == sentinel,
          listing(scratch).allSatisfy({ ["sandbox", "input.gguf", "input.safetensors", "tokenizer.json"].contains($0) }) else {
        fatalError("the lesson wrote outside its folder or replaced a file")
    }
    // Whatever the lesson wrote inside its folder goes; then `check` must write nothing at all.
    for f in listing(lessonDir) where !before.contains(f) {
        try? FileManager.default.removeItem(atPath: lessonDir + "/" + f)
    }
    _ = try? LessonRunner.check(path: file)
    guard listing(lessonDir) == before, listing(sandboxRoot + "/outside") == ["keep.txt"] else {
        fatalError("stepwise check wrote a file")
    }
}
