import Foundation

extension MappedFile {
    /// The whole file copied into `Data`.
    ///
    /// Used instead of `Data(contentsOf:)` and `FileManager.contents(atPath:)`, which on Linux leak a
    /// 4 KB buffer for an empty file (found under LeakSanitizer).
    /// - Throws: ``StepwiseError`` if the file is missing, unreadable or not a regular file.
    public static func data(path: String) throws -> Data {
        let file = try MappedFile(path: path)
        // The copy must finish before the mapping is released.
        return withExtendedLifetime(file) { Data(file.bytes) }
    }
}
