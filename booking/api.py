"""The public API, each name imported once, explicitly: the package `booking` re-exports this module's
names (booking/__init__.py), importing it when a name is first used."""

from booking._version import __version__ as __version__
from booking.compare.cells import Comparison as Comparison
from booking.compare.matrix import compare_strategies as compare_strategies
from booking.errors import BadInput as BadInput
from booking.errors import BookingError as BookingError
from booking.errors import CannotRun as CannotRun
from booking.history import History as History
from booking.kit.outcomes import DECLINED as DECLINED
from booking.kit.outcomes import Declined as Declined
from booking.kit.statements import auto_points as auto_points
from booking.options.config import Isolation as Isolation
from booking.options.config import RunConfig as RunConfig
from booking.options.config import Schedule as Schedule
from booking.run.past import verify_run as verify_run
from booking.run.repeat import Runs as Runs
from booking.run.repeat import simulate_runs as simulate_runs
from booking.run.result import RunResult as RunResult
from booking.run.result import VerifyResult as VerifyResult
from booking.run.selling import sell as sell
from booking.run.simulate import simulate as simulate
from booking.service.run import serve as serve
from booking.service.settings import ServeConfig as ServeConfig
from booking.stores import init_store as init_store
from booking.stores.dbapi import connect as connect
from booking.stores.dbapi import connect_args as connect_args
from booking.stores.migrate import (
    downgrade_store as downgrade_store,
)
from booking.stores.migrate import (
    schema_state as schema_state,
)
from booking.stores.migrate import (
    upgrade_store as upgrade_store,
)
from booking.strategies import strategy_rows as strategy_rows
from booking.strategies.target.check import check_target_file as check_target_file
from booking.verdict.verify import Verdict as Verdict
from booking.verdict.verify import verify as verify
