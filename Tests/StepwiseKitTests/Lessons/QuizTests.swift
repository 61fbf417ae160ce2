import Testing
@testable import StepwiseKit

@Suite("Quiz")
struct QuizTests {
    func quiz(_ a: String) throws -> Quiz {
        Quiz(question: "?", answer: try QuizAnswer.parse(a), line: 1)
    }

    @Test("answer forms parse")
    func parse() throws {
        #expect(try QuizAnswer.parse("0.25 ± 0.01") == .number(0.25, tolerance: 0.01))
        #expect(try QuizAnswer.parse("0.25 tolerance 0.01") == .number(0.25, tolerance: 0.01))
        #expect(try QuizAnswer.parse("0.25+-0.01") == .number(0.25, tolerance: 0.01))
        #expect(try QuizAnswer.parse("-1e-3 +/- 1e-4") == .number(-0.001, tolerance: 0.0001))
        #expect(try QuizAnswer.parse("12") == .number(12, tolerance: 0))
        #expect(try QuizAnswer.parse("token ' Paris'") == .token(" Paris"))
        #expect(try QuizAnswer.parse("token \"it's\"") == .token("it's"))
        #expect(try QuizAnswer.parse("token '\\n'") == .token("\n"))
        #expect(try QuizAnswer.parse("token Paris") == .token("Paris"))
        #expect(try QuizAnswer.parse("head 0.3") == .head(layer: 0, head: 3))
        #expect(try QuizAnswer.parse("head 11 2") == .head(layer: 11, head: 2))
        #expect(throws: QuizAnswerSyntaxError("bad tolerance 'nan': expected a number >= 0, like 0.01")) {
            try QuizAnswer.parse("1 ± nan")
        }
        #expect(throws: QuizAnswerSyntaxError("quiz answer 'token' needs the token text, like token ' Paris'")) {
            try QuizAnswer.parse("token")
        }
    }

    @Test("descriptions show the answer to the student")
    func descriptions() {
        #expect(QuizAnswer.number(0.25, tolerance: 0.01).description == "0.25 ± 0.01")
        #expect(QuizAnswer.number(12, tolerance: 0).description == "12")
        #expect(QuizAnswer.token(" Paris").description == "' Paris'")
        #expect(QuizAnswer.head(layer: 0, head: 3).description == "head 0.3")
    }

    @Test("numbers: within the tolerance, inclusive")
    func numbers() throws {
        let q = try quiz("0.25 ± 0.01")
        #expect(q.check(answer: "0.25") == .correct)
        #expect(q.check(answer: " 0.26 ") == .correct)
        #expect(q.check(answer: "0.24") == .correct)
        #expect(q.check(answer: "0.2") == .wrong(expected: "0.25 ± 0.01"))
        #expect(q.check(answer: "a quarter") == .unreadable("expected a number, like 0.25"))
        #expect(q.check(answer: "") == .unreadable("expected a number, like 0.25"))
        #expect(try quiz("12").check(answer: "12") == .correct)
        #expect(try quiz("12").check(answer: "12.5") == .wrong(expected: "12"))
    }

    @Test("tokens: quotes removed; unquoted answers ignore surrounding spaces")
    func tokens() throws {
        let q = try quiz("token ' Paris'")
        #expect(q.check(answer: "' Paris'") == .correct)
        #expect(q.check(answer: "\" Paris\"") == .correct)
        #expect(q.check(answer: "Paris") == .correct)
        #expect(q.check(answer: "'Paris'") == .wrong(expected: "' Paris'"))
        #expect(q.check(answer: "paris") == .wrong(expected: "' Paris'"))
        #expect(q.check(answer: "  ") == .unreadable("expected a token, like ' Paris'"))
        #expect(try quiz("token '\\n'").check(answer: "'\\n'") == .correct)
    }

    @Test("heads: L.H, L H, L,H, L0H3")
    func heads() throws {
        let q = try quiz("head 0.3")
        for a in ["0.3", "0 3", "0,3", "L0H3", "l0.h3"] { #expect(q.check(answer: a) == .correct, "\(a)") }
        #expect(q.check(answer: "3.0") == .wrong(expected: "head 0.3"))
        #expect(q.check(answer: "3") == .unreadable("expected a head as layer.head, like 0.3"))
    }
}
