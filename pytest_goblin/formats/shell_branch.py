"""Which branches of a launcher script run, where goblin can tell (review12b #29 SihengLi99/24Game train_grpo.slurm:67-89,
review12a #18 hkust-nlp/dart-math scripts/train-multi-node.sh:15-62).

An `if [[ "$X" == "lit" ]]` / `if [ "$X" = lit ]` / `!=` test over a variable the script sets for certain to a literal
above it (`launcher_text.parse_launcher`'s `origin`: not the caller's, not under a branch) is decided: the lines of the
branch that does not run are not read, and the branch that runs is read as the script's own lines (its assignments set
for certain). bash(1), SHELL GRAMMAR, Compound Commands: `if list; then list; [ elif list; then list; ] ... [ else list; ]
fi` runs the first `then` list whose test succeeds, else the `else` list; CONDITIONAL EXPRESSIONS: `string1 == string2`,
`string1 = string2` ("= should be used with the test command for POSIX conformance"), `string1 != string2`; inside `[[ ]]`
an unquoted right operand is a pattern, so only literals without `*?[` are compared here.

A `while [[ $# -gt 0 ]]` loop reads the script's own arguments: goblin reads a launcher as it is run without arguments
(as `${1:-default}`), where `$#` is 0 and the loop body never runs (bash(1), Special Parameters: `#` "the number of
positional parameters"); its assignments (`n_nodes="$2"` in a `case` arm) are not read, and the values set above stay.

Anything else (a test over `$1`, a command, `-z`, a value set under a branch or by the caller) is undecided: today's
reading, its assignments not set for certain. Nothing is run."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

# `if [[ "$USE_VLLM" == "true" ]]` / `elif [ "$MODE" != grpo ]`: two words and an operator inside one pair of brackets
# (`\S{1,200}` words separated by required spaces: one pass, no nested quantifier)
_TEST = re.compile(r"^(?:el)?if\s+(\[\[|\[)\s+(\S{1,200})\s+(==|=|!=)\s+(\S{1,200})\s+(\]\]|\])$")
_VAR_WORD = re.compile(r'^(")?\$(?:\{([A-Za-z_]\w{0,63})\}|([A-Za-z_]\w{0,63}))(")?$')
_LITERAL = re.compile(r"""^(?:"([^"$`\\]{0,128})"|'([^']{0,128})'|([\w.,:/+@%-]{1,128}))$""")
# `while [[ $# -gt 0 ]]`, `while [ "$#" -gt 0 ]`, `while (( $# > 0 ))`, `while (( "$#" ))`: a loop over the arguments
_ARG_LOOP = re.compile(r"""^while\s+(?:\[\[?\s+"?\$#"?\s+(?:-gt\s+0|-ne\s+0|-ge\s+1)\s+\]\]?|\(\(\s*"?\$#"?\s*(?:>\s*0\s*)?\)\))$""")
# `if [ -f "$ROOT_DIR/config.env" ]`: the test holds where the file is in the repository (bash(1), CONDITIONAL
# EXPRESSIONS: `-f file` "True if file exists and is a regular file"); a file not in it (one the user writes, a
# secrets file) leaves the test undecided (review13a #15 tprimat train/amd_tran_llama.sh:8-12)
_FILE_TEST = re.compile(r"^if\s+(\[\[|\[)\s+-f\s+(\S{1,300})\s+(\]\]|\])$")
Exists = Callable[[str], "bool | None"]
_OPENER = re.compile(r"^(if|case|while|until|for|select)\b")
_CLOSER = re.compile(r"^(fi|esac|done)\b")
_CLOSES = {"if": "fi", "case": "esac", "while": "done", "until": "done", "for": "done", "select": "done"}


@dataclass
class _Block:
    # "live" (decided: this branch runs), "dead" (decided: it does not), "done" (a branch ran: the rest does not),
    # "open" (an undecided `elif` of a decided `if`: read as today), "nested" (any block inside one that does not run),
    # "undecided" (an undecided block inside a decided one: read as today, kept so that its closer pairs)
    state: str
    closer: str  # the word that ends it: fi / done / esac


@dataclass
class Branches:
    """The blocks open at the current command of a script where one of them is decided, innermost last."""

    blocks: list[_Block] = field(default_factory=list)
    skipped: dict[str, int] = field(default_factory=dict)  # VAR -> the line of a `while [[ $# -gt 0 ]]` loop that assigns it

    def dead(self) -> bool:
        return any(b.state in ("dead", "done") for b in self.blocks)

    def step(self, part: str, n: int, env: dict[str, str], certain: set[str], exists: Exists | None = None) -> tuple[bool, str]:
        """Reads one command of the script (`part`, stripped, `then`/`do` words removed). Returns (skip, rest): skip the
        command (a decided block's own words, or a command of a branch that does not run), else the command to read
        (`else X=1` -> `X=1`; an undecided `elif` as the `if` the caller counts as an undecided block)."""
        top = self.blocks[-1] if self.blocks else None
        opener, closer = _OPENER.match(part), _CLOSER.match(part)
        if self.dead():
            assert top is not None
            if opener:
                self.blocks.append(_Block("nested", _CLOSES[opener.group(1)]))
            elif closer and top.closer == closer.group(1):
                self.blocks.pop()
            elif top.state in ("dead", "done") and top.closer == "fi" and _TURN.match(part):
                return self._turn(top, part, env, certain)
            elif any(b.state == "dead" and b.closer == "done" for b in self.blocks) and (a := _ASSIGNS.match(part)):
                self.skipped.setdefault(a.group(1), n)
            return True, ""
        if opener and opener.group(1) == "if":
            verdict = decide(part, env, certain)
            if verdict is None and exists is not None and not self.blocks and (f := _FILE_TEST.match(part)) and (f.group(1) == "[[") == (f.group(3) == "]]"):
                verdict = exists(f.group(2))
            if verdict is None:
                if self.blocks:
                    self.blocks.append(_Block("undecided", "fi"))
                return False, part
            self.blocks.append(_Block("live" if verdict else "dead", "fi"))
            return True, ""
        if opener and _ARG_LOOP.match(part):
            self.blocks.append(_Block("dead", "done"))
            return True, ""
        if opener and self.blocks:
            self.blocks.append(_Block("undecided", _CLOSES[opener.group(1)]))
            return False, part
        if top is not None and top.closer == "fi" and _TURN.match(part) and top.state in ("live", "done"):
            return self._turn(top, part, env, certain)
        if closer and top is not None and top.closer == closer.group(1):
            self.blocks.pop()
            return top.state == "live", part  # a decided `fi`: the block counted no depth
        return False, part

    def _turn(self, block: _Block, part: str, env: dict[str, str], certain: set[str]) -> tuple[bool, str]:
        """`elif` / `else` of a decided `if` (the innermost block)."""
        if block.state in ("live", "done"):
            block.state = "done"
            return True, ""
        if part.startswith("elif"):
            verdict = decide(part, env, certain)
            if verdict is None:  # an undecided `elif` after a false test: its branch and the rest read as today
                block.state = "open"
                return False, part.replace("elif", "if", 1)  # the caller counts it as an undecided `if`
            block.state = "live" if verdict else "dead"
            return True, ""
        block.state = "live"  # `else` after a false test
        rest = re.sub(r"^else\b\s*", "", part)
        return not rest, rest


_TURN = re.compile(r"^(?:elif|else)\b")
_ASSIGNS = re.compile(r"^(?:export\s+|local\s+)?([A-Za-z_]\w{0,63})=")


def _operand(word: str, env: dict[str, str], certain: set[str], bracket: str) -> str | None:
    var = _VAR_WORD.match(word)
    if var:
        if bool(var.group(1)) != bool(var.group(4)):
            return None
        name = var.group(2) or var.group(3)
        value = env.get(name)
        if name not in certain or value is None or "$" in value or "`" in value:
            return None
        if not var.group(1) and (not value or (bracket == "[" and " " in value)):  # `[ $X = a ]` over an empty or split value
            return None
        return value
    lit = _LITERAL.match(word)
    if lit:
        return next(g for g in lit.groups() if g is not None)
    return None


def decide(part: str, env: dict[str, str], certain: set[str]) -> bool | None:
    """Whether an `if`/`elif` string test holds, None where goblin cannot tell."""
    m = _TEST.match(part)
    if not m or (m.group(1) == "[[") != (m.group(5) == "]]"):
        return None
    left, right = (_operand(w, env, certain, m.group(1)) for w in (m.group(2), m.group(4)))
    if left is None or right is None:
        return None
    if not (_VAR_WORD.match(m.group(2)) or _VAR_WORD.match(m.group(4))):
        return None  # two literals: not a test over the script's values
    return (left == right) != (m.group(3) == "!=")
