"""The day-25 notes' lessons, one booking command each: Process and join, daemon, Lock (the ticket
grab), Queue, JoinableQueue (producers and consumers).

A lesson is plain data: what the notes teach, what the command shows of it, the command, and the
exit code that shows it (a lesson whose run does not show its point says so and fails). Its words
are msgids (N_): `booking --lang zh lesson 3` says them in the notes' own language.
"""

from __future__ import annotations

from dataclasses import dataclass

from booking.i18n.lang import N_, _


@dataclass(frozen=True)
class Lesson:
    number: int
    title: str  # N_
    notes: str  # the notes' section it comes from (N_)
    shows: str  # what the command shows of it (N_)
    args: tuple[str, ...]  # `booking simulate ...`'s options
    expect: int  # the exit code that shows the point (0 OK, 1 UNSAFE, 3 STUCK)
    then: str  # what to look at in the output, and what to try next (N_)

    @property
    def command(self) -> str:
        return " ".join(("booking", "simulate", *self.args))


LESSONS = (
    Lesson(
        1,
        N_("Process and join"),
        N_("the notes' section 3 and 6: Process(target=...), start(), join()"),
        N_(
            "Each buyer is a multiprocessing.Process running the notes' task(). start() only asks the operating "
            "system for a process, so booking holds every buyer at a start barrier until all of them are running; "
            "then they race. Like join(), the parent waits for every buyer to end before it reads the store and "
            "judges the run."
        ),
        ("--buyers", "4", "--tickets", "4", "--lock", "mp-lock"),
        0,
        N_(
            "Look for the start barrier line (all 4 buyers are started and ready) and the verdict, which comes "
            "only once every buyer has ended: 4 buyers, 4 tickets, one each."
        ),
    ),
    Lesson(
        2,
        N_("daemon"),
        N_("the notes' section 7: p.daemon = True"),
        N_(
            "booking starts every buyer with daemon=True: no buyer outlives the parent. Here each buyer sleeps "
            "5 s inside its purchase (--think 5000, the notes' time.sleep), but the run's deadline is 1 s: the "
            "parent gives its buyers a short grace, then ends them and reports them stuck. The command returns "
            "before any buyer wakes up, and no buyer process is left behind."
        ),
        ("--buyers", "3", "--no-lock", "--think", "5000", "--deadline", "1"),
        3,
        N_(
            "Look for each buyer's stuck line and the verdict STUCK (exit 3): the run could not be carried "
            "out, and it says so instead of waiting for ever."
        ),
    ),
    Lesson(
        3,
        N_("Lock: the ticket grab"),
        N_("the notes' section 8 and exercise 1 (模拟抢票): 10 buyers, 1 ticket, the mutex"),
        N_(
            "The notes' exercise: search() looks at the stock outside the lock; get() reads, checks and writes "
            "it under `with mutex`. Without the mutex every buyer reads count=1 before any of them writes, and "
            "all 10 buy ticket #1. With it, get() runs one buyer at a time: one sale, and nine buyers find no "
            "tickets left."
        ),
        ("--buyers", "10", "--lock", "mp-lock"),
        0,
        N_(
            "Look at the barrier line: all 10 buyers have looked, then they all go for the lock at once, and "
            "each waits its turn. Then take the lock away: booking simulate --buyers 10 --no-lock (UNSAFE: "
            "ticket #1 sold 10 times)."
        ),
    ),
    Lesson(
        4,
        N_("Queue"),
        N_("the notes' section 9: Queue, put() and get()"),
        N_(
            "Processes share no memory; a multiprocessing Queue carries messages between them. With --lock "
            "queue each buyer put()s its request on a queue, and one seller process get()s them one at a time "
            "and answers each buyer: the seller alone touches the stock, so no lock is needed."
        ),
        ("--buyers", "5", "--lock", "queue"),
        0,
        N_(
            "Look at the seller's lines: it reads and writes for each buyer in turn, and each read says how "
            "long the request waited in the queue."
        ),
    ),
    Lesson(
        5,
        N_("JoinableQueue: producers and consumers"),
        N_("the notes' section 10 and 11: the producer/consumer model, JoinableQueue, task_done(), join()"),
        N_(
            "Buyers are the producers, sellers the consumers, and the queue between them is a JoinableQueue: "
            "a seller calls task_done() after each answer and the run join()s the queue before it ends, so no "
            "consumer needs a None sentinel of its own. But three consumers each read the stock by themselves: "
            "they race exactly as the buyers did."
        ),
        ("--buyers", "3", "--lock", "queue", "--sellers", "3"),
        1,
        N_(
            "Look at the sellers' lines: all 3 sellers read count=1 before any writes, and ticket #1 is sold 3 "
            "times. Protect the consumers too: booking simulate --buyers 3 --lock queue --sellers 3 "
            "--seller-lock mp-lock."
        ),
    ),
)


def lesson(number: int) -> Lesson:
    for known in LESSONS:
        if known.number == number:
            return known
    raise LookupError(number)


def intro(known: Lesson) -> list[str]:
    """What a lesson says before its command runs."""
    return [
        _("Lesson {n}: {title}").format(n=known.number, title=_(known.title)),
        _("From {notes}.").format(notes=_(known.notes)),
        _(known.shows),
        _("Run in a scratch directory (your db.json is left alone):"),
        f"$ {known.command}",
    ]
