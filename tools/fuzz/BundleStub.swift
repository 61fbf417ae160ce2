import Foundation

// Compiled only into the fuzzers: they build the library sources with swiftc directly, without
// SwiftPM's generated resource accessor. No built-in model is looked up while fuzzing.
extension Bundle {
    static var module: Bundle { Bundle.main }
}
