// Path rules of wire-protocol.md §8.2 (PathUtils.validatePath in Apache ZooKeeper).
import Testing
import ZKData

@Suite struct PathUtilsTests {
    @Test(arguments: [
        "/", "/a", "/a/b", "/zookeeper/config", "/a/...", "/.a", "/a.", "/a/.b", "/..a", "/a/b..",
        "/seq-0000000001", "/a b", "/é", "/\u{00A0}", "/\u{00FF}", "/\u{D7FF}", "/\u{F900}", "/\u{FFEF}", "/日本",
    ])
    func valid(_ path: String) {
        #expect(PathUtils.invalidReason(path) == nil, "\(path.unicodeScalars.map { String($0.value, radix: 16) })")
        #expect(PathUtils.isValid(path))
    }

    @Test(arguments: [
        "", "a", "a/b", "/a/", "//", "/a//b", "/.", "/..", "/a/.", "/a/..", "/./a", "/../a", "/a/./b", "/a/../b", "//a",
        "/a\u{0}", "/\u{0}", "/a\u{1}b", "/a\u{1F}", "/a\u{7F}", "/a\u{80}", "/a\u{9F}", "/a\tb", "/a\nb",
        "/a\u{E000}", "/\u{F8FF}", "/a\u{FFF0}", "/a\u{FFFF}", "/a\u{FFFE}b",
    ])
    func invalid(_ path: String) {
        #expect(PathUtils.invalidReason(path) != nil, "\(path.unicodeScalars.map { String($0.value, radix: 16) })")
        #expect(!PathUtils.isValid(path))
    }

    @Test func reasons() {
        #expect(PathUtils.invalidReason("") == "Path length must be > 0")
        #expect(PathUtils.invalidReason("a") == "Path must start with / character")
        #expect(PathUtils.invalidReason("/a/") == "Path must not end with / character")
        #expect(PathUtils.invalidReason("/a//b") == "empty node name specified")
        #expect(PathUtils.invalidReason("/a/..") == "relative paths not allowed")
        #expect(PathUtils.invalidReason("/.") == "relative paths not allowed")
        #expect(PathUtils.invalidReason("/a\u{0}b") == "null character not allowed")
        #expect(PathUtils.invalidReason("/a\u{1}") == "invalid character")
    }

    /// Java validates UTF-16 code units: a character outside the BMP is a
    /// surrogate pair (U+D800–U+DFFF), which §8.2 forbids. Lone surrogates
    /// cannot be put in a Swift String, so supplementary characters are the
    /// way such paths arrive.
    @Test(arguments: ["/a\u{1F600}", "/\u{10000}", "/x/\u{10FFFF}"])
    func supplementaryCharactersAreInvalidAsInJava(_ path: String) {
        #expect(!PathUtils.isValid(path))
    }

    @Test func parent() {
        #expect(PathUtils.parent(of: "/") == "")
        #expect(PathUtils.parent(of: "/a") == "/")
        #expect(PathUtils.parent(of: "/a/b") == "/a")
        #expect(PathUtils.parent(of: "/a/b/c") == "/a/b")
        #expect(PathUtils.parent(of: "/zookeeper/config") == "/zookeeper")
        #expect(PathUtils.parent(of: "noslash") == "")
    }

    @Test func name() {
        #expect(PathUtils.name(of: "/a") == "a")
        #expect(PathUtils.name(of: "/a/bc") == "bc")
        #expect(PathUtils.name(of: "/") == "")
        #expect(PathUtils.name(of: "/zookeeper/quota") == "quota")
        #expect(PathUtils.name(of: "plain") == "plain")
    }

    @Test func join() {
        #expect(PathUtils.join("/", "a") == "/a")
        #expect(PathUtils.join("/a", "b") == "/a/b")
        #expect(PathUtils.join("/a/b", "seq-0000000000") == "/a/b/seq-0000000000")
        for p in ["/a", "/a/b", "/x/y/z"] {
            #expect(PathUtils.join(PathUtils.parent(of: p), PathUtils.name(of: p)) == p)
        }
    }
}
