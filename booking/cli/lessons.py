"""The day-25 notes' lessons, one booking command each: Process and join, daemon, Lock (the ticket
grab), Queue, JoinableQueue (producers and consumers).

A lesson is plain data: the notes' section and the code idea it comes from, the command, the result to
expect, the exit code that shows it (a lesson whose run does not show its point says so and fails), and
one sentence of why. Its words are msgids (N_): `booking --lang zh lesson 3` says them in the notes'
own language; the code is the notes' and stays as it is.
"""

from __future__ import annotations

from dataclasses import dataclass

from booking.i18n.lang import N_, _
from booking.render.text import pad


@dataclass(frozen=True)
class Lesson:
    number: int
    title: str  # N_
    notes: str  # the notes' section it comes from (N_)
    expected: str  # the result to expect (N_)
    args: tuple[str, ...]  # `booking simulate ...`'s options (none: the lesson runs the notes' code itself)
    expect: int  # the exit code that shows the point (0 OK, 1 UNSAFE)
    why: str  # one sentence: why the result is what it is (N_)
    code: tuple[tuple[str, str], ...] = ()  # the notes' code idea: (code, its comment: N_)

    @property
    def command(self) -> str:
        if not self.args:
            return f"booking lesson {self.number}"
        return " ".join(("booking", "simulate", *self.args))


LESSONS = (
    Lesson(
        1,
        N_("Process and join"),
        N_("the notes' sections 3 and 6: Process(target=...), start(), join()"),
        N_(
            "one line when all 4 buyers are running (the start barrier opens), 4 sales of one ticket each, "
            "and the verdict OK (exit 0) only after every buyer has ended."
        ),
        ("--buyers", "4", "--tickets", "4", "--lock", "mp-lock"),
        0,
        N_(
            "start() only asks the operating system for a process, so the buyers start at different moments "
            "and booking holds them until all are running; like join(), it waits for every buyer to end "
            "before it judges the store."
        ),
        (
            ("p = Process(target=task, args=('路人%s' % i, mutex))", ""),
            ("p.start()", N_("asks the operating system for a process")),
            ("p.join()", N_("waits until it has ended")),
        ),
    ),
    Lesson(
        2,
        N_("daemon"),
        N_("the notes' section 7: p.daemon = True"),
        N_(
            "the parent's code ends at once, and its 3 daemon buyers end with it, long before their 5-second "
            "sleep is over: none of them finishes."
        ),
        (),
        0,
        N_(
            "when a parent's code ends, multiprocessing ends its daemon children, so a daemon never outlives "
            "its parent; daemon=True does not promise that the daemon finishes its work, a daemon may start no "
            "process of its own, and a parent killed outright (kill -9) ends none of them."
        ),
        (
            ("p.daemon = True", N_("before p.start()")),
            ("p.start()", N_("the buyer: time.sleep(5)")),
            ("print('主')", N_("the parent's code ends here")),
        ),
    ),
    Lesson(
        3,
        N_("Lock: the ticket grab"),
        N_("the notes' section 8 and exercise 1 (模拟抢票): 10 buyers, 1 ticket, the mutex"),
        N_("one buyer buys ticket #1 and the nine others find no tickets left; the verdict is OK (exit 0)."),
        ("--buyers", "10", "--lock", "mp-lock"),
        0,
        N_(
            "under the mutex get() reads, checks and writes for one buyer at a time, so no buyer reads the "
            "count while another is about to write it; without it (--no-lock) all 10 buy ticket #1."
        ),
        (
            ("search(name)", N_("outside the lock")),
            ("with mutex:", ""),
            ("    get(name)", N_("read, check, write")),
        ),
    ),
    Lesson(
        4,
        N_("Queue"),
        N_("the notes' section 9: Queue, put() and get()"),
        N_(
            "one seller reads and writes for each buyer in turn: one sale, four buyers turned away; the "
            "verdict is OK (exit 0)."
        ),
        ("--buyers", "5", "--lock", "queue"),
        0,
        N_(
            "processes share no memory, so the buyers only put() their requests on the queue, and the one "
            "seller get()s them one at a time and alone touches the stock: no lock is needed."
        ),
        (("q.put(request)", N_("each buyer")), ("request = q.get()", N_("the one seller"))),
    ),
    Lesson(
        5,
        N_("JoinableQueue: producers and consumers"),
        N_("the notes' sections 10 and 11: producers and consumers, JoinableQueue, task_done(), join()"),
        N_(
            "all 3 sellers read count=1 before any of them writes: ticket #1 is sold 3 times; the verdict is "
            "UNSAFE (exit 1)."
        ),
        ("--buyers", "3", "--lock", "queue", "--sellers", "3"),
        1,
        N_(
            "task_done() and join() end the run without a None for each consumer, but three consumers that "
            "each read the stock race exactly as the buyers did; protect them too with --seller-lock mp-lock."
        ),
        (("q.task_done()", N_("a seller, after each answer")), ("q.join()", N_("the run, before it ends"))),
    ),
)


def lesson(number: int) -> Lesson:
    for known in LESSONS:
        if known.number == number:
            return known
    raise LookupError(number)


def intro(known: Lesson) -> list[str]:
    """What a lesson says before its command runs: the notes' section and code, the command, what to expect."""
    where = (
        _("Run in a scratch directory (your db.json is left alone):")
        if known.args
        else _("Run: the code above, in a parent process of its own:")
    )
    return [
        _("Lesson {n}: {title}").format(n=known.number, title=_(known.title)),
        _("From {notes}.").format(notes=_(known.notes)),
        *(_code_line(code, comment) for code, comment in known.code),
        where,
        f"$ {known.command}",
        _("Expected: {expected}").format(expected=_(known.expected)),
    ]


def _code_line(code: str, comment: str) -> str:
    """A line of the notes' code, its comment said in the language spoken."""
    return f"    {pad(code, 18)}  # {_(comment)}" if comment else f"    {code}"


def why(known: Lesson) -> str:
    return _("Why: {why}").format(why=_(known.why))
