import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// What is at a path, found with `stat(2)` or `lstat(2)` without opening it: opening a FIFO for
/// reading blocks until a writer comes, and a device can stream forever.
public enum FileKind: Equatable, Sendable {
    case missing
    case regular
    case directory
    case fifo
    case characterDevice
    case blockDevice
    case socket
    /// A symbolic link (only when links are not followed).
    case symlink
    /// A symbolic link whose target does not exist.
    case danglingSymlink
    /// `stat` failed for another reason than a missing file (the errno's text).
    case inaccessible(String)

    /// The kind at `path`; with `followLinks` a link reports what it points to (or `.danglingSymlink`).
    public static func at(_ path: String, followLinks: Bool = true) -> FileKind {
        var st = stat()
        let rc = followLinks ? stat(path, &st) : lstat(path, &st)
        guard rc == 0 else {
            let err = errno
            if followLinks, err == ENOENT, lstat(path, &st) == 0, (st.st_mode & S_IFMT) == S_IFLNK {
                return .danglingSymlink
            }
            if err == ENOENT || err == ENOTDIR { return .missing }
            return .inaccessible(String(cString: strerror(err)))
        }
        switch st.st_mode & S_IFMT {
        case S_IFREG: return .regular
        case S_IFDIR: return .directory
        case S_IFIFO: return .fifo
        case S_IFCHR: return .characterDevice
        case S_IFBLK: return .blockDevice
        case S_IFSOCK: return .socket
        case S_IFLNK: return .symlink
        default: return .inaccessible("unknown file type")
        }
    }

    /// Words for messages: "a named pipe (FIFO)".
    public var phrase: String {
        switch self {
        case .missing: return "missing"
        case .regular: return "a file"
        case .directory: return "a folder"
        case .fifo: return "a named pipe (FIFO)"
        case .characterDevice: return "a character device"
        case .blockDevice: return "a block device"
        case .socket: return "a socket"
        case .symlink: return "a symbolic link"
        case .danglingSymlink: return "a symbolic link to nothing"
        case .inaccessible(let why): return "not accessible (\(why))"
        }
    }
}

/// Checks on paths before anything opens them.
public enum Files {
    /// A path as typed, made absolute: `~` and `~/x` become the home folder (expanded once, here, so
    /// every later check sees the real path), a relative path is taken from `base` (a lesson's folder
    /// or the working directory). `builtin` and `builtin:translate` stay as they are.
    public static func resolve(_ typed: String, base: String?) -> String {
        if typed == "builtin" || typed.hasPrefix("builtin:") { return typed }
        if typed == "~" || typed.hasPrefix("~/") { return home + typed.dropFirst() }
        if typed.hasPrefix("~") { return NSString(string: typed).expandingTildeInPath }
        if typed.hasPrefix("/") { return typed }
        guard let base, !base.isEmpty else { return typed }
        return base.hasSuffix("/") ? base + typed : base + "/" + typed
    }

    /// The home folder: `$HOME`, else the password database's.
    public static var home: String {
        if let h = ProcessInfo.processInfo.environment["HOME"], !h.isEmpty { return h }
        return FileManager.default.homeDirectoryForCurrentUser.path
    }

    /// The path with every symbolic link, `.` and `..` resolved; nil when a part is missing.
    public static func realPath(_ path: String) -> String? {
        guard let p = realpath(path, nil) else { return nil }
        defer { free(p) }
        return String(cString: p)
    }

    /// Throws unless `path` is a regular file (a link to one counts).
    /// - Parameters:
    ///   - shownAs: the path as the user typed it, for the message.
    ///   - what: what the file is for ("the lesson file"), for the message.
    public static func requireRegularFile(_ path: String, shownAs: String? = nil, what: String = "file") throws {
        let kind = FileKind.at(path)
        switch kind {
        case .regular: return
        case .missing: throw StepwiseError.file(shownAs ?? path, "no such file")
        case .danglingSymlink: throw StepwiseError.file(shownAs ?? path, "is a symbolic link to nothing; give a \(what) that exists")
        default: throw StepwiseError.file(shownAs ?? path, "is \(kind.phrase), not a regular file; give a \(what)")
        }
    }

    /// Throws unless `path` is missing or a regular file or folder: what a model loader may look into.
    public static func refuseSpecial(_ path: String, shownAs: String? = nil) throws {
        let kind = FileKind.at(path)
        switch kind {
        case .regular, .directory, .missing: return
        default: throw StepwiseError.file(shownAs ?? path, "is \(kind.phrase), not a file or folder; Stepwise reads only regular files")
        }
    }

    /// True when `path` is `folder` or inside it (both already real paths).
    public static func isInside(_ path: String, _ folder: String) -> Bool {
        let f = folder.hasSuffix("/") ? String(folder.dropLast()) : folder
        return path == f || path.hasPrefix(f + "/") || f.isEmpty
    }
}
