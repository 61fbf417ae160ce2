import Foundation

/// What a lesson may touch while it is played or checked. A lesson is a stranger's file: it reads
/// only inside its own folder (a model it names may be loaded from anywhere, but only loaded), it
/// writes only new files inside that folder (never replacing one; `--force` is refused), and while it
/// is checked it writes nothing at all. lessons/README.md says the same for lesson authors.
public struct LessonSandbox: Sendable, Equatable {
    /// The real path (links resolved) of the folder of the innermost lesson being played.
    public let folder: String
    /// The lessons being played, outermost first: (real path, path as shown).
    public let chain: [Entry]
    /// False while `stepwise check` replays the lesson.
    public let mayWrite: Bool

    public struct Entry: Sendable, Equatable {
        public let realPath: String
        public let shown: String
    }

    /// The sandbox of a lesson started by the user (from the shell, the REPL or `check`).
    /// - Parameters:
    ///   - path: the lesson file, already resolved to an absolute path.
    ///   - shownAs: the path as typed, for messages.
    public static func start(lesson path: String, shownAs: String, mayWrite: Bool) throws -> LessonSandbox {
        try Files.requireRegularFile(path, shownAs: shownAs, what: "lesson file (Markdown)")
        guard let real = Files.realPath(path) else { throw StepwiseError.file(shownAs, "no such lesson file") }
        return LessonSandbox(folder: (real as NSString).deletingLastPathComponent, chain: [Entry(realPath: real, shown: shownAs)],
                             mayWrite: mayWrite)
    }

    /// The sandbox of a lesson that this lesson plays with `lesson FILE`: the file must be inside this
    /// lesson's folder, and must not be one of the lessons already playing.
    public func entering(lesson path: String, shownAs: String) throws -> LessonSandbox {
        let real = try readable(path, shownAs: shownAs, what: "lesson file (Markdown)")
        if let i = chain.firstIndex(where: { $0.realPath == real }) {
            let cycle = (chain[i...].map(\.shown) + [shownAs]).joined(separator: " → ")
            throw StepwiseError.usage("lesson cycle: \(cycle); a lesson cannot play itself")
        }
        return LessonSandbox(folder: (real as NSString).deletingLastPathComponent,
                             chain: chain + [Entry(realPath: real, shown: shownAs)], mayWrite: mayWrite)
    }

    /// Checks that a lesson may read `path` (a regular file inside its folder); returns the real path.
    public func readable(_ path: String, shownAs: String, what: String = "file") throws -> String {
        try Files.requireRegularFile(path, shownAs: shownAs, what: what)
        guard let real = Files.realPath(path), Files.isInside(real, folder) else {
            throw StepwiseError.usage("a lesson may read only files inside its own folder; '\(shownAs)' is outside it")
        }
        return real
    }

    /// Checks that a lesson may write a new file at `path` (resolved, absolute); returns the path to
    /// write, in the real folder.
    /// - Parameters:
    ///   - command: the command asking ("export", "record"), for messages.
    ///   - force: whether `--force` was given (always refused here).
    public func checkWrite(_ path: String, shownAs: String, command: String, force: Bool) throws -> String {
        guard mayWrite else {
            throw StepwiseError.usage("'\(command)' writes no files while a lesson is checked ('stepwise check' never writes)")
        }
        guard !force else {
            throw StepwiseError.usage("'\(command) --force' is refused in a lesson: a lesson never replaces a file")
        }
        let url = URL(fileURLWithPath: path)
        let name = url.lastPathComponent
        guard !name.isEmpty, name != ".", name != ".." else {
            throw StepwiseError.usage("'\(shownAs)' names a folder; give a file name")
        }
        guard let parent = Files.realPath(url.deletingLastPathComponent().path), Files.isInside(parent, folder) else {
            throw StepwiseError.usage("a lesson may write only inside its own folder; '\(shownAs)' is outside it")
        }
        guard FileKind.at(path, followLinks: false) == .missing else {
            throw StepwiseError.usage("'\(shownAs)' exists; a lesson never replaces a file (choose a new name)")
        }
        return (parent as NSString).appendingPathComponent(name)
    }
}
