extension ByteLevelBPE {
    /// The bytes of one id: a special token's text, or the bytes its byte-level piece encodes.
    public func bytes(for id: Int) -> [UInt8]? {
        if let t = specialTextByID[id] { return Array(t.utf8) }
        guard let p = piece(for: id) else { return nil }
        var out: [UInt8] = []
        ByteEncoder.appendBytes(of: p, to: &out)
        return out
    }
}
