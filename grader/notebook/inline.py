"""The report inline in a notebook: a compact summary (points, cases passed, the first thing to
fix with its `likely:` line), then the failing cases as the HTML report draws them (heatmaps,
lecture boxes), collapsible; and the same as plain text for a console.

Nothing is drawn twice: the cases are cut out of the HTML report itself (grader/report/html.py
and its template), and its stylesheet is scoped to the output's own box (`.gnb …`), so that it
never restyles the notebook around it. Like the report: inline CSS and SVG, no script, no
external resource; everything from the submission is escaped.
"""
from __future__ import annotations

import re
from functools import lru_cache

from jinja2 import Environment, StrictUndefined
from markupsafe import Markup

from grader.i18n import language, t
from grader.model.result import Result
from grader.model.statuses import describe
from grader.report.html import points_text, render_html
from grader.report.terminal import SUMMARY_REASON, safe, summary

ROOT_CLASS = "gnb"
# the statuses that name something wrong in the code, before « not written yet »
_FIRST = ("failed", "error", "timeout", "violation", "missing", "not_implemented")

SUMMARY = """\
<div class="card summary">
<div class="score-line"><span class="score-big">{{ score }} / {{ max_score }}</span>
<span class="score-sub">{{ words.cases_passed }}</span>
{% if all_passed %}<span class="badge passed">✓ {{ words.all_passed }}</span>{% endif %}</div>
<div class="bar" role="presentation"><span class="{{ level }}" style="width: {{ percent }}%"></span></div>
{% if first %}
<p class="first-fix"><strong>{{ words.first_fix }}</strong> <span class="badge {{ first.status }}">{{ first.icon }} {{ first.word }}</span>
<code class="case-id">{{ first.id }}</code> — {{ first.message }}</p>
{% if first.diagnosis %}<p class="diagnosis"><strong>{{ words.likely }}</strong> {{ first.diagnosis }}</p>{% endif %}
{% endif %}
{% if notes %}<div class="notes"><ul>{% for n in notes %}<li>{{ n }}</li>{% endfor %}</ul></div>{% endif %}
<table class="overview"><tbody>
{% for e in exercises %}<tr><td>{{ e.name }}</td><td class="num">{{ e.passed }} / {{ e.total }}</td><td class="num">{{ e.score }} / {{ e.max_score }}</td></tr>
{% endfor %}</tbody></table>
<p class="hidden-note">{{ source }} · {{ isolation }} · {{ duration }}</p>
</div>
{% if cases %}
<details class="failing" open><summary>{{ words.failing }}</summary>
<div class="cases">{{ cases | join("\\n") }}</div>
</details>
{% endif %}
"""

EXTRA_CSS = """
.gnb { padding: 10px 12px; border-radius: 10px; max-width: 1180px; }
.gnb .card { margin-bottom: 10px; padding: 14px 16px; }
.gnb .first-fix { margin: 8px 0 4px; }
.gnb details.failing > summary { cursor: pointer; font-weight: 600; margin: 4px 0; }
.gnb table.overview td { padding: 3px 10px; }
"""


@lru_cache(maxsize=1)
def _environment() -> Environment:
    env = Environment(autoescape=True, undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    return env


# --- what the report page holds -----------------------------------------------------------------

_STYLE = re.compile(r"<style>(.*?)</style>", re.S)
_TAG = re.compile(r"<(/?)(details|div)\b([^>]*)>")


def _blocks(page: str, ids: set) -> dict:
    """{anchor id: the case's element}, cut out of the report page for the anchors in `ids`. The
    page's tags are the template's own (a submission's text is escaped), so matching them by
    depth is exact."""
    found, stack = {}, []
    for match in _TAG.finditer(page):
        closing, tag, attributes = match.groups()
        if not closing:
            anchor = re.search(r'\bid="([^"]+)"', attributes)
            stack.append((tag, match.start(), anchor.group(1) if anchor and anchor.group(1) in ids else None))
        elif stack:
            opened, start, anchor = stack.pop()
            if anchor:
                found[anchor] = page[start:match.end()]
    return found


def scoped_css(css: str, root: str = "." + ROOT_CLASS) -> str:
    """The report's stylesheet with every rule applied inside `root` only: `:root`, `html`,
    `body` and `main` become `root` itself, every other selector is prefixed with it (inside
    @media too). The report's CSS is the grader's own: flat rules, @media blocks, no strings
    holding braces."""
    css = re.sub(r"/\*.*?\*/", "", css, flags=re.S)
    out, i = [], 0
    while i < len(css):
        brace = css.find("{", i)
        if brace < 0:
            break
        head = css[i:brace].strip()
        if head.startswith("@media"):
            depth, j = 1, brace + 1
            while depth and j < len(css):
                depth += {"{": 1, "}": -1}.get(css[j], 0)
                j += 1
            out.append(f"{head} {{{scoped_css(css[brace + 1:j - 1], root)}}}")
            i = j
            continue
        end = css.find("}", brace)
        body = css[brace + 1:end]
        selectors = []
        for selector in head.split(","):
            selector = selector.strip()
            if selector in (":root", "html", "body", "main"):
                selectors.append(root)
            elif selector.startswith(("body ", "main ")):
                selectors.append(root + selector[4:])
            elif selector:
                selectors.append(f"{root} {selector}")
        out.append(f"{', '.join(selectors)} {{{body}}}")
        i = end + 1
    return "\n".join(out)


# --- the two views -------------------------------------------------------------------------------

def ordered_failures(result: Result) -> list:
    """The public cases that fail, the ones that name a mistake in the code first (failed, error…),
    then those not written yet; in the assignment's order within each."""
    failing = [c for c in result.cases if not c.passed]
    return sorted(failing, key=lambda c: (c.visibility != "public",
                                          _FIRST.index(c.status) if c.status in _FIRST else len(_FIRST)))


def isolation_text(isolation) -> str:
    level = (isolation or {}).get("level", "?") if isinstance(isolation, dict) else "?"
    reason = (isolation or {}).get("reason") if isinstance(isolation, dict) else None
    return t("notebook.isolation", level=safe(level, 60)) + (f" ({safe(reason, 120)})" if reason else "")


def render_inline_html(result: Result, assignment, notes: list, replay) -> str:
    """The output's text/html: one box, its scoped style, the summary and the failing cases."""
    page = render_html(result, assignment, replay)
    style = _STYLE.search(page)
    failures = ordered_failures(result)
    from grader.report.html import case_view   # the anchor the page gave each case
    anchors = {c.id: case_view(c, assignment, replay)["anchor"] for c in failures}
    blocks = _blocks(page, set(anchors.values()))
    cases = []
    for number, case in enumerate(failures):
        block = blocks.get(anchors[case.id])
        if block is None:
            continue
        if number and block.startswith("<details"):   # only the first is open: the box stays compact
            block = re.sub(r"^(<details[^>]*?) open>", r"\1>", block, count=1)
        cases.append(Markup(block))
    first = next((c for c in failures if c.visibility == "public"), None)
    first_view = None
    if first is not None:
        status = describe(first.status)
        first_view = {"id": safe(first.id, 200), "status": first.status, "icon": status.icon, "word": status.word(),
                      "message": safe(first.message, SUMMARY_REASON),
                      "diagnosis": safe(first.diagnosis, SUMMARY_REASON) if first.diagnosis else ""}
    total = sum(1 for _ in result.cases)
    passed = sum(c.passed for c in result.cases)
    percent = 100 * result.score / result.max_score if result.max_score else 0
    words = {"cases_passed": t("notebook.html.cases_passed", count=passed, passed=passed, total=total),
             "all_passed": t("notebook.html.all_passed"), "first_fix": t("notebook.html.first_fix"),
             "likely": t("html_report.case.likely_cause"), "failing": t("notebook.html.failing", count=len(cases))}
    body = _environment().from_string(SUMMARY).render(words=words,
        score=points_text(result.score), max_score=points_text(result.max_score), passed=passed, total=total,
        all_passed=passed == total, percent=round(percent, 1),
        level="good" if percent >= 90 else "fair" if percent >= 50 else "poor",
        first=first_view, notes=[safe(n, 600) for n in notes],
        exercises=[{"name": e.name, "passed": e.passed, "total": len(e.cases), "score": points_text(e.score),
                    "max_score": points_text(e.max_score)} for e in result.exercises],
        source=t("notebook.source_public") if result.source == "public-cases file" else t("notebook.source_reference"),
        isolation=isolation_text(result.isolation), duration=f"{result.duration:.2f} s", cases=cases)
    css = scoped_css(style.group(1)) if style else ""
    return (f'<div class="{ROOT_CLASS}" lang="{language()}"><style>{css}{EXTRA_CSS}</style>'
            f"{body}</div>")


def render_text(result: Result, replay) -> str:
    """The output's text/plain: the first thing to fix, then the terminal summary (no colour)."""
    lines = []   # the notes are the summary's first lines
    failures = [c for c in ordered_failures(result) if c.visibility == "public"]
    if failures:
        first = failures[0]
        lines.append(t("notebook.text.first_fix", id=safe(first.id, 200), message=safe(first.message, SUMMARY_REASON)))
        if first.diagnosis:
            lines.append("  " + t("terminal.likely", diagnosis=safe(first.diagnosis, SUMMARY_REASON)))
    lines.append(summary(result, colour=False, quiet=False, replay=replay))
    lines.append(isolation_text(result.isolation))
    return "\n".join(lines)
