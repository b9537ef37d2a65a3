"""The command line: parse arguments, call the domain, render. No SQL or YAML here."""

import functools
import os
import sys
from datetime import date
from enum import Enum
from pathlib import Path
from typing import Annotated, Optional

import typer

from civreform.dates import MAX_DAYS

app = typer.Typer(
    name="civreform",
    help="Track whether a government plan is carried out, deadline by deadline, agency by agency.",
    no_args_is_help=True,
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
    add_completion=False,
)


class Format(str, Enum):
    table = "table"
    csv = "csv"
    json = "json"
    markdown = "markdown"


class SummaryFormat(str, Enum):
    text = "text"
    markdown = "markdown"
    json = "json"


class Role(str, Enum):
    lead = "lead"
    support = "support"
    any = "any"


class Lang(str, Enum):
    en = "en"
    vi = "vi"


class Standing(str, Enum):
    done_on_time = "done-on-time"
    done_late = "done-late"
    within_deadline = "within-deadline"
    overdue = "overdue"
    ongoing = "ongoing"
    pending = "pending"


# One definition of each shared option.
FormatOption = Annotated[Format, typer.Option("--format", "-f", help="table (default), csv, json or markdown.")]
AsOfOption = Annotated[Optional[str], typer.Option(
    "--as-of", envvar="CIVREFORM_AS_OF", show_envvar=True,
    help="Report the plan as it stood on this day: 2014-03-31, 31/03/2014 or today (the default).")]
AgencyOption = Annotated[Optional[str], typer.Option(
    "--agency", "-a", help="Agency code or any part of its name, with or without diacritics (\"hai hau\").")]
BomOption = Annotated[bool, typer.Option("--bom", help="Start CSV with a UTF-8 byte-order mark (for Excel).")]


class AppContext:
    """The settings of one invocation (the global options, given before or after the
    command) and the databases it opened; it travels as the Typer context's `obj`."""

    def __init__(self, db: str | None = None, lang: str = "en", plan: str | None = None):
        self.db_option = db
        self.lang = lang
        self.plan = plan
        self.opened: list = []  # databases this command opened, closed when it ends


def today() -> date:
    """The only clock. CIVREFORM_TODAY fixes it (for tests and reruns)."""
    fixed = os.environ.get("CIVREFORM_TODAY")
    if fixed:
        from civreform.dates import parse_user_date

        return parse_user_date(fixed)
    return date.today()


def say(message: str, err: bool = False) -> None:
    """Print a message (stdout, or stderr with `err`) as one line, its control
    characters shown as escapes: messages carry plan text and paths."""
    from civreform.render import visible

    print(visible(message, one_line=True), file=sys.stderr if err else sys.stdout)


def fail(message: str, code: int) -> typer.Exit:
    say(f"civreform: {message}", err=True)
    return typer.Exit(code)


def _db_name() -> str:
    """The database file this invocation uses, for error messages."""
    from civreform.db import resolve_db_path

    return str(resolve_db_path(_settings().db_option)[0])


# The global options, also accepted after the command name (Typer takes a callback's
# options only before it): each command gets these three, which override the callback's.
GLOBAL_HERE = {
    "db_here": Annotated[Optional[str], typer.Option("--db", help="The SQLite file (as before the command).")],
    "lang_here": Annotated[Optional[Lang], typer.Option("--lang", help="en or vi (as before the command).")],
    "plan_here": Annotated[Optional[str], typer.Option("--plan", help="Only this plan (as before the command).")],
}


def reported(command):
    """A command: global options accepted after it too, empty values refused, and
    civreform's errors (and database errors) turned into one line on stderr and an exit code."""
    import inspect

    signature = inspect.signature(command)
    option_names = {name: _option_name(name, parameter.annotation) for name, parameter in signature.parameters.items()}

    @functools.wraps(command)
    def wrapper(*args, db_here=None, lang_here=None, plan_here=None, **kwargs):
        import sqlite3

        from civreform.errors import CivreformError

        from typer._click.core import ParameterSource
        from typer._click.globals import get_current_context

        settings = _settings()
        ctx = get_current_context(silent=True)
        given = {name for name in kwargs if ctx is None
                 or ctx.get_parameter_source(name) not in (ParameterSource.DEFAULT, None)}
        for name, value in (("--db", db_here), ("--plan", plan_here)):
            _refuse_blank(name, value)
        settings.db_option = db_here if db_here is not None else settings.db_option
        settings.plan = plan_here if plan_here is not None else settings.plan
        settings.lang = lang_here.value if lang_here is not None else settings.lang
        for name in given:
            _refuse_blank(option_names.get(name, name), kwargs[name])
        try:
            return command(*args, **kwargs)
        except CivreformError as error:
            raise fail(str(error), error.exit_code) from None
        except sqlite3.Error as error:
            from civreform.db import describe_sqlite_error

            raise fail(describe_sqlite_error(_db_name(), error), 3) from None
        except UnicodeDecodeError:
            # Only the database hands us undecodable text (files we read decode it themselves).
            raise fail(f"{_db_name()}: the database file is damaged (text that is not UTF-8); "
                       "restore it from a backup", 3) from None
        except BrokenPipeError:
            # The reader went away (| head): stop quietly, as other Unix tools do.
            _drop_output()
            raise typer.Exit(0) from None
        except OSError as error:
            name = getattr(error, "filename", None)
            raise fail(f"{name + ': ' if name else ''}{error.strerror or error}", 3) from None
        except (typer.Exit, typer.Abort, KeyboardInterrupt):
            raise
        except Exception as error:  # a bug of ours: still one line, never a traceback
            if os.environ.get("CIVREFORM_DEBUG"):
                raise
            raise fail(f"internal error ({type(error).__name__}: {error}); please report it, "
                       "and set CIVREFORM_DEBUG=1 to see the details", 70) from None
        finally:
            while settings.opened:
                settings.opened.pop().close()

    extra = [inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=None, annotation=annotation)
             for name, annotation in GLOBAL_HERE.items()]
    wrapper.__signature__ = signature.replace(parameters=[*signature.parameters.values(), *extra])
    wrapper.__annotations__ = {**command.__annotations__, **GLOBAL_HERE}
    return wrapper


def _option_name(name: str, annotation) -> str:
    """How a parameter is written on the command line (its first --option, or its metavar)."""
    for meta in getattr(annotation, "__metadata__", ()):
        # In Annotated[...], Option's first name lands in its `default`.
        names = [getattr(meta, "default", None), *(getattr(meta, "param_decls", ()) or ())]
        decls = [d for d in names if isinstance(d, str) and d.startswith("--")]
        if decls:
            return decls[0].split("/")[0]
        if getattr(meta, "metavar", None):
            return meta.metavar
    return name.upper()


def _refuse_blank(name: str, value) -> None:
    """An empty or blank value is a mistake (an unset variable in a script), never "all"."""
    if isinstance(value, (str, Path)) and not str(value).strip():
        leave = f"; give a value or leave {name} out" if name.startswith("--") else ""
        raise fail(f"{name}: an empty value{leave}", 2)


def _settings() -> AppContext:
    """This invocation's settings: the Typer context's obj (Click's current context;
    Typer bundles its own Click)."""
    from typer._click.globals import get_current_context

    ctx = get_current_context(silent=True)
    root = ctx.find_root() if ctx is not None else None
    if root is None or not isinstance(root.obj, AppContext):
        if root is None:
            return AppContext()
        root.obj = AppContext()
    return root.obj


def _print_version(value: bool) -> None:
    if value:
        import civreform

        print(civreform.__version__)
        raise typer.Exit(0)


@app.callback()
def main_options(
    ctx: typer.Context,
    db: Annotated[Optional[str], typer.Option(
        "--db", envvar="CIVREFORM_DB", show_envvar=True,
        help="The SQLite file (default: civreform.db in your user data folder).")] = None,
    lang: Annotated[Lang, typer.Option(
        "--lang", envvar="CIVREFORM_LANG", show_envvar=True,
        help="Language of what tables and messages say: en or vi. CSV/JSON keep English keys.")] = Lang.en,
    plan: Annotated[Optional[str], typer.Option(
        "--plan", envvar="CIVREFORM_PLAN", help="Only this plan (its id or number), when several are loaded.")] = None,
    version: Annotated[bool, typer.Option("--version", is_eager=True, callback=_print_version,
                                          help="Print the version and exit.")] = False,
):
    """civreform: is the plan being carried out? Start with `civreform overdue`."""
    for name, value in (("--db", db), ("--plan", plan)):
        _refuse_blank(name, value)
    ctx.obj = AppContext(db, lang.value, plan)


# ── helpers ─────────────────────────────────────────────────────────────────

def open_db(autoload: bool = True, create: bool = True):
    """Open the database; with none there yet, create it and load the bundled plan
    (create=False: only a database that is there)."""
    from civreform.db import open_database, resolve_db_path

    settings = _settings()
    path, is_default = resolve_db_path(settings.db_option)
    database = open_database(path, create=create, make_parent=is_default)
    settings.opened.append(database)
    if database.created and autoload:
        from civreform.loading import store_plan
        from civreform.plan import bundled_plan_path, read_plan_file

        result = store_plan(database.conn, read_plan_file(bundled_plan_path()))
        say(f"civreform: no database at {path}; created it and loaded the bundled plan "
            f"{result.number} ({result.tasks} tasks)", err=True)
    return database


def as_of_date(value: str | None) -> date:
    from civreform.dates import parse_user_date

    return parse_user_date(value, today()) if value else today()


def plan_filter(conn) -> str | None:
    from civreform.reports import resolve_plan

    return resolve_plan(conn, _settings().plan)


def agency_scope(conn, query: str | None, plan_id: str | None, direct: bool = False):
    if not query:
        return None
    from civreform.reports import resolve_agency

    return resolve_agency(conn, query, plan_id, direct=direct)


def label(row: dict, key: str) -> str:
    """The row's text in the chosen language (falls back to Vietnamese)."""
    if _settings().lang == "en":
        return row.get(f"{key}_en") or row.get(key) or ""
    return row.get(key) or ""


def for_table(rows, title_key: str = "title"):
    """Rows with the language-dependent display fields the tables show."""
    from civreform.render import standing_label, status_label

    vi = _settings().lang == "vi"
    for row in rows:
        shown = dict(row)
        shown["_title"] = label(row, title_key)
        shown["_standing"] = standing_label(row.get("standing"), vi)
        shown["_status"] = status_label(row.get("status"), vi)
        percent = row.get("percent")
        shown["_percent"] = "" if percent is None else f"{percent}%"
        if row.get("units") and row["units"] > 1:
            shown["_status"] += f" ({row['units_done']}/{row['units']})"
        yield shown


def words(english: str, vietnamese: str) -> str:
    """A table's title or its empty message, in the chosen language."""
    return vietnamese if _settings().lang == "vi" else english


def headers(*pairs: tuple[str, str, str]) -> list[tuple[str, str]]:
    """(key, English header, Vietnamese header) -> (key, header in the chosen language)."""
    vi = _settings().lang == "vi"
    return [(key, vi_header if vi else en_header) for key, en_header, vi_header in pairs]


# ── load, plans, agencies ───────────────────────────────────────────────────

@app.command()
@reported
def load(
    paths: Annotated[Optional[list[Path]], typer.Argument(
        metavar="[PATH]...", help="Plan files (YAML or JSON) and folders of them (*.yaml, *.yml, *.json, "
        "recursively). Default: the bundled plan 55/KH-UBND.")] = None,
):
    """Validate plan files and load them into the database, each plan in its own transaction.

    Loading again (the same file or an edited one) updates the plan in place;
    recorded progress is never deleted. A file unchanged since it was loaded is
    skipped. A file that fails is named on stderr (FILE:LINE: problem) and the
    others still load; then the exit status is 3.

    Example: civreform load archive/   or   civreform load data/plan_55_2013.yaml
    """
    from civreform.db import resolve_db_path
    from civreform.loading import load_files, plan_files
    from civreform.plan import bundled_plan_path

    files, problems = plan_files(paths or [bundled_plan_path()])
    db_path = resolve_db_path(_settings().db_option)[0]
    # A database is created only for a plan that validates: a refused file touches nothing.
    there = db_path.is_file() and db_path.stat().st_size > 0
    one = len(files) == 1
    loaded = unchanged = 0
    with progress_bar("loading tasks" if one else "loading plans", counting=not one) as advance:
        outcomes = load_files(files, lambda: open_db(autoload=False).conn, connect_now=there,
                              progress=None if one else advance, task_progress=advance if one else None)
        for outcome in outcomes:
            if outcome.error is not None:
                problems.append(outcome.error)
            elif outcome.result is None:
                unchanged += 1
                if one:
                    say(f"unchanged plan {outcome.plan_id}: {outcome.path} is as loaded; nothing to do")
            else:
                loaded += 1
                _say_loaded(outcome.result)
    if len(files) > 1:
        say(f"{loaded} plan(s) loaded or updated, {unchanged} unchanged, {len(problems)} failed, "
            f"of {len(files)} file(s)")
    for problem in problems:
        say(f"civreform: {problem}", err=True)
    if problems:
        raise typer.Exit(3)


def _say_loaded(result) -> None:
    verb = "updated" if result.replaced else "loaded"
    say(f"{verb} plan {result.plan_id} ({result.number}): {result.tasks} tasks, {result.milestones} milestones, "
        f"{result.agencies} agencies; {result.events_kept} progress events kept")
    if result.orphaned_events:
        say(f"civreform: {result.orphaned_events} progress event(s) belong to tasks or milestones no longer in "
            f"the plan {result.plan_id}; they are kept (see `civreform check`)", err=True)


@app.command()
@reported
def plans(fmt: FormatOption = Format.table, bom: BomOption = False):
    """List the plans in the database."""
    from civreform import reports, render

    database = open_db()
    rows = reports.list_plans(database.conn)
    columns = ["plan", "number", "issued", "title", "title_en", "period_start", "period_end", "tasks",
               "milestones", "events", "loaded_at"]
    render.write_rows(rows, fmt.value, display=for_table, columns=columns, table_columns=headers(
        ("plan", "Plan", "Kế hoạch"), ("number", "Number", "Số"), ("issued", "Issued", "Ngày ban hành"),
        ("_title", "Title", "Tên"), ("tasks", "Tasks", "Nhiệm vụ"), ("events", "Events", "Số báo cáo")), bom=bom)


@app.command()
@reported
def agencies(fmt: FormatOption = Format.table, bom: BomOption = False):
    """List agencies with the number of tasks each leads and supports (named directly)."""
    from civreform import reports, render

    database = open_db()
    rows = reports.list_agencies(database.conn, plan_filter(database.conn))
    vi = _settings().lang == "vi"
    shown = ({**row, "_name": row["name"] if vi else (row["name_en"] or row["name"])} for row in rows)
    columns = ["plan", "code", "name", "name_en", "kind", "lead_tasks", "support_tasks", "members", "groups", "note"]
    render.write_rows(shown, fmt.value, columns=columns, table_columns=headers(
        ("code", "Code", "Mã"), ("_name", "Agency", "Cơ quan"), ("kind", "Kind", "Loại"),
        ("lead_tasks", "Leads", "Chủ trì"), ("support_tasks", "Supports", "Phối hợp"),
        ("members", "Members", "Thành viên")), bom=bom)


# ── tasks, show ─────────────────────────────────────────────────────────────

@app.command()
@reported
def tasks(
    agency: AgencyOption = None,
    role: Annotated[Role, typer.Option("--role", help="lead (default), support or any.")] = Role.lead,
    direct: Annotated[bool, typer.Option("--direct", help="Only tasks that name the agency itself, not its groups.")] = False,
    standing: Annotated[Optional[Standing], typer.Option("--standing", help="Only tasks with this standing.")] = None,
    as_of: AsOfOption = None,
    fmt: FormatOption = Format.table,
    bom: BomOption = False,
):
    """List tasks with their standing; filter by agency and role.

    A department or district also finds the tasks of its groups ("Các sở, ban,
    ngành", "UBND cấp huyện"), marked in the Via column; --direct drops those.

    Example: civreform tasks --agency "so noi vu" --role lead --direct
    """
    from civreform import reports, render

    database = open_db()
    plan_id = plan_filter(database.conn)
    scope = agency_scope(database.conn, agency, plan_id, direct)
    when = as_of_date(as_of)
    rows = reports.list_tasks(database.conn, when, plan_id=plan_id, scope=scope, role=role.value,
                              standing=standing.value if standing else None)
    table_columns = [("task", "ID", "TT"), ("_title", "Title", "Nhiệm vụ"), ("lead", "Lead", "Chủ trì")]
    if scope is not None:
        table_columns.append(("via", "Via group", "Thuộc nhóm"))
    table_columns += [("next_due", "Next due", "Thời hạn"), ("_status", "Status", "Tình trạng"),
                      ("_percent", "%", "%"), ("_standing", "Standing", "Đánh giá")]
    role_words = {"lead": "chủ trì", "support": "phối hợp", "any": "chủ trì hoặc phối hợp"}
    title = (words(f"Tasks as of {when.isoformat()}", f"Nhiệm vụ tính đến ngày {when.isoformat()}")
             + (f" — {scope.name} ({words(role.value, role_words[role.value])})" if scope else ""))
    render.write_rows(rows, fmt.value, display=for_table, columns=reports.TASK_COLUMNS,
                      table_columns=headers(*table_columns), title=title, bom=bom,
                      empty=words("no tasks match", "không có nhiệm vụ nào phù hợp"))


@app.command()
@reported
def show(
    task_id: Annotated[str, typer.Argument(metavar="ID", help="Task id, e.g. 13 or IV.2-plan.")],
    as_of: AsOfOption = None,
    fmt: FormatOption = Format.table,
    bom: BomOption = False,
):
    """Everything about one task: its text, agencies, milestones and, for tasks every
    department or district reports on, who has reported done, year by year.

    CSV gives one row per milestone, each with the task's own fields; Markdown the
    whole task as a document.

    Example: civreform show 13 --format json
    """
    from civreform import reports, render

    database = open_db()
    plan_id, found = reports.find_task(database.conn, task_id, plan_filter(database.conn))
    when = as_of_date(as_of)
    detail = reports.task_detail(database.conn, plan_id, found, when)
    vi = _settings().lang == "vi"
    if fmt == Format.json:
        render.write_json_object(detail, sys.stdout)
    elif fmt == Format.csv:
        render.write_csv(render.task_detail_rows(detail), render.TASK_DETAIL_COLUMNS, sys.stdout, bom=bom)
    elif fmt == Format.markdown:
        render.write_task_markdown(detail, when, vi, sys.stdout)
    else:
        render.write_task_detail(detail, when, vi=vi)


# ── overdue, upcoming ───────────────────────────────────────────────────────

MILESTONE_TABLE = (("task", "Task", "TT"), ("milestone", "Milestone", "Mốc"), ("due", "Due", "Hạn"))


@app.command()
@reported
def overdue(
    as_of: AsOfOption = None,
    agency: AgencyOption = None,
    fmt: FormatOption = Format.table,
    bom: BomOption = False,
    fail_on_overdue: Annotated[bool, typer.Option("--fail-on-overdue", help="Exit with status 1 when anything is overdue.")] = False,
):
    """Milestones due before the as-of date and not done by then, most overdue first.

    A milestone due on the as-of date itself is not overdue. Progress recorded as
    happening after the as-of date does not count.

    Example: civreform overdue --as-of 2014-01-01 --agency "hai hau"
    """
    from civreform import reports, render

    database = open_db()
    plan_id = plan_filter(database.conn)
    scope = agency_scope(database.conn, agency, plan_id)
    when = as_of_date(as_of)
    rows = reports.overdue(database.conn, when, plan_id=plan_id, scope=scope)
    title = (words(f"Overdue as of {when.isoformat()}", f"Quá hạn tính đến ngày {when.isoformat()}")
             + (f" — {scope.name}" if scope else ""))
    count = render.write_rows(rows, fmt.value, display=for_table, columns=reports.OVERDUE_COLUMNS, bom=bom,
                              table_columns=headers(*MILESTONE_TABLE, ("days_overdue", "Days late", "Quá (ngày)"),
                                                    ("lead", "Lead", "Chủ trì"), ("_status", "Status", "Tình trạng"),
                                                    ("_percent", "%", "%"), ("_title", "Title", "Nhiệm vụ"),
                                                    ("reason", "Reason", "Lý do")),
                              title=title, empty=words(f"nothing overdue as of {when.isoformat()}",
                                                       f"không có mốc nào quá hạn tính đến ngày {when.isoformat()}"))
    if fail_on_overdue and count:
        raise typer.Exit(1)


@app.command()
@reported
def upcoming(
    as_of: AsOfOption = None,
    days: Annotated[int, typer.Option("--days", "-d", min=0, max=MAX_DAYS,
                                      help="How many days ahead (default 30; 0: due today).")] = 30,
    agency: AgencyOption = None,
    fmt: FormatOption = Format.table,
    bom: BomOption = False,
):
    """Milestones not yet done that fall due from the as-of date through N days later.

    Example: civreform upcoming --as-of 2013-12-01 --days 31
    """
    from civreform import reports, render

    database = open_db()
    plan_id = plan_filter(database.conn)
    scope = agency_scope(database.conn, agency, plan_id)
    when = as_of_date(as_of)
    rows = reports.upcoming(database.conn, when, days, plan_id=plan_id, scope=scope)
    title = (words(f"Due from {when.isoformat()} through the next {days} days",
                   f"Đến hạn trong {days} ngày kể từ ngày {when.isoformat()}") + (f" — {scope.name}" if scope else ""))
    render.write_rows(rows, fmt.value, display=for_table, columns=reports.UPCOMING_COLUMNS, bom=bom,
                      table_columns=headers(*MILESTONE_TABLE, ("days_left", "Days left", "Còn (ngày)"),
                                            ("lead", "Lead", "Chủ trì"), ("_status", "Status", "Tình trạng"),
                                            ("_percent", "%", "%"), ("_title", "Title", "Nhiệm vụ"),
                                            ("reason", "Reason", "Lý do")),
                      title=title, empty=words(f"nothing falls due in the {days} days from {when.isoformat()}",
                                               f"không có mốc nào đến hạn trong {days} ngày kể từ ngày {when.isoformat()}"))


# ── progress ────────────────────────────────────────────────────────────────

@app.command()
@reported
def record(
    task_id: Annotated[str, typer.Argument(metavar="ID", help="Task id, e.g. 21 or IV.2-plan.")],
    status: Annotated[str, typer.Option("--status", "-s", help="not-started, in-progress, done or blocked.")],
    percent: Annotated[Optional[int], typer.Option("--percent", "-p", help="0 to 100 (done means 100).")] = None,
    on: Annotated[Optional[str], typer.Option("--on", help="When it happened (default today).")] = None,
    note: Annotated[str, typer.Option("--note", help="Free text.")] = "",
    evidence: Annotated[str, typer.Option("--evidence", help="The document that proves it, e.g. \"Quyết định 1234/QĐ-UBND ngày 20/12/2013\".")] = "",
    milestone: Annotated[Optional[str], typer.Option("--milestone", "-m", help="Milestone label or due year (default: the earliest not yet done).")] = None,
    agency: AgencyOption = None,
    by: Annotated[str, typer.Option("--by", help="Who records it.")] = "",
):
    """Append a progress event. Nothing is ever overwritten: a correction is a new event.

    Example: civreform record 21 --status done --on 2013-09-15 --evidence "QĐ 1234/QĐ-UBND"
    """
    from civreform import progress

    database = open_db()
    result = progress.record(database.conn, today=today(), task=task_id, status=status, percent=percent, on=on,
                             note=note, evidence=evidence, milestone=milestone, agency=agency,
                             plan=_settings().plan, by=by or os.environ.get("USER", ""))
    say(describe_event(result))


def describe_event(result: dict) -> str:
    """One line saying what was recorded and where the milestone stands now."""
    where = f"task {result['task']}"
    if result["milestone"]:
        where += f" milestone {result['milestone']} (due {result['due'] or 'on its event'})"
    who = f" for {result['agency']}" if result["agency"] else ""
    percent_text = "" if result["percent"] is None else f" {result['percent']}%"
    tail = f"standing now: {result['standing']}"
    if result.get("role") == "support":
        tail = (f"kept as support: {result['agency']} supports this task, so the lead's standing is unchanged "
                f"({result['standing']})")
    elif "agency_standing" in result:
        tail = (f"{result['agency']}: {result['agency_standing']}; milestone: {result['standing']} "
                f"({result['units_done']}/{result['units']} agencies done)")
    return f"recorded event {result['event']}: {where}{who}: {result['status']}{percent_text} on {result['on']}; {tail}"


@app.command()
@reported
def retract(
    event_id: Annotated[int, typer.Argument(metavar="EVENT_ID", help="The id `history` shows in its # column.")],
    reason: Annotated[str, typer.Option("--reason", help="Why the event is wrong.")],
    by: Annotated[str, typer.Option("--by", help="Who retracts it.")] = "",
):
    """Take back a mistaken event: from now on every report behaves as if it had never
    been recorded; `history` still shows it, marked, with the retraction.

    Example: civreform retract 12 --reason "recorded for the wrong district"
    """
    from civreform import progress

    database = open_db()
    result = progress.retract(database.conn, event_id, reason=reason, today=today(),
                              by=by or os.environ.get("USER", ""))
    where = f"task {result['task']}" + (f" milestone {result['milestone']}" if result["milestone"] else "")
    tail = f"; standing now: {result['standing']}" if "standing" in result else ""
    say(f"recorded event {result['event']}: retracts event {result['retracts']} ({where}){tail}")


@app.command()
@reported
def trigger(
    task_id: Annotated[str, typer.Argument(metavar="ID", help="A task whose deadline waits for an event.")],
    on: Annotated[str, typer.Option("--on", help="The day the event happened: 2014-03-31 or 31/03/2014.")],
    milestone: Annotated[Optional[str], typer.Option("--milestone", "-m", help="When several deadlines wait.")] = None,
    note: Annotated[str, typer.Option("--note", help="Free text, e.g. the document that was issued.")] = "",
    by: Annotated[str, typer.Option("--by", help="Who records it.")] = "",
):
    """Record that the event a conditional deadline waits for happened ("sau khi có
    hướng dẫn của Bộ Nội vụ"): the milestone is then due that many days later.

    Example: civreform trigger 7 --on 15/03/2014 --note "Thông tư 05/2014/TT-BNV"
    """
    from civreform import progress

    database = open_db()
    result = progress.trigger(database.conn, task=task_id, on=on, today=today(), milestone=milestone,
                              plan=_settings().plan, note=note, by=by or os.environ.get("USER", ""))
    say(f"recorded event {result['event']}: task {result['task']} milestone {result['milestone']}: "
        f"\"{result['after_event']}\" happened on {result['on']}; now due {result['due']}")


@app.command()
@reported
def history(
    task_id: Annotated[Optional[str], typer.Argument(metavar="[ID]", help="Only this task.")] = None,
    agency: AgencyOption = None,
    since: Annotated[Optional[str], typer.Option("--since", help="Only events that happened on or after this day.")] = None,
    as_of: AsOfOption = None,
    fmt: FormatOption = Format.table,
    bom: BomOption = False,
):
    """Every event, oldest first: progress (support marked), retractions, triggers.

    --as-of shows the history as it stood that day: events recorded up to it (a
    retraction recorded later does not show yet).
    """
    from civreform import reports, render
    from civreform.dates import parse_user_date

    database = open_db()
    plan_id = plan_filter(database.conn)
    found_plan, found_task = (None, None)
    if task_id:
        found_plan, found_task = reports.find_task(database.conn, task_id, plan_id)
    scope = agency_scope(database.conn, agency, plan_id)
    rows = reports.history(database.conn, plan_id=found_plan or plan_id, task_id=found_task,
                           scope=scope,
                           since=parse_user_date(since, today()) if since else None,
                           recorded_until=as_of_date(as_of) if as_of else None)
    render.write_rows(rows, fmt.value, columns=reports.HISTORY_COLUMNS, bom=bom, table_columns=headers(
        ("id", "#", "#"), ("task", "Task", "TT"), ("milestone", "Milestone", "Mốc"), ("agency", "Agency", "Cơ quan"),
        ("_kind", "Kind", "Loại"), ("status", "Status", "Tình trạng"), ("percent", "%", "%"), ("on", "On", "Ngày"),
        ("note", "Note", "Ghi chú"), ("evidence", "Evidence", "Văn bản"), ("by", "By", "Người ghi")),
        display=history_display,
        title=words("Progress history", "Lịch sử báo cáo tiến độ"),
        empty=words("no progress recorded", "chưa có báo cáo tiến độ nào"))


def history_display(rows):
    """What a person reads in history's Kind column: support, a retraction, a retracted event."""
    vi = _settings().lang == "vi"
    names = {("progress", "lead"): ("", ""), ("progress", "support"): ("support", "phối hợp"),
             ("retraction", ""): ("retracts #{}", "thu hồi #{}"), ("trigger", ""): ("event happened", "sự kiện")}
    for row in rows:
        english, vietnamese = names[(row["kind"], row["role"])]
        kind = (vietnamese if vi else english).format(row["retracts"])
        if row["retracted_by"]:
            kind = (kind + " " if kind else "") + (f"retracted by #{row['retracted_by']}" if not vi
                                                   else f"bị thu hồi bởi #{row['retracted_by']}")
        yield {**row, "_kind": kind}


@app.command()
@reported
def template(
    agency: AgencyOption = None,
    as_of: AsOfOption = None,
    output: Annotated[Optional[Path], typer.Option(
        "--output", "-o", help="Write to this file instead of stdout (- is stdout).")] = None,
    bom: Annotated[bool, typer.Option("--bom/--no-bom", help="Start with a UTF-8 byte-order mark, which Excel "
                                      "needs to read Vietnamese (the default).")] = True,
):
    """A CSV with one row per open milestone, for an agency to fill in and send back.

    Each row holds the latest report already recorded; change status, percent, date
    (when it happened), note and evidence, then `civreform import FILE.csv`. Rows left
    as they are import as nothing new. With an agency, the tasks it supports are
    offered too (role "support": kept and shown, never deciding the lead's standing).
    With --lang vi the headers and status words are Vietnamese; import reads either.
    """
    from civreform import progress, render
    from civreform.output_files import STDOUT, text_output

    database = open_db()
    plan_id = plan_filter(database.conn)
    scope = agency_scope(database.conn, agency, plan_id)
    vi = _settings().lang == "vi"
    rows = progress.template_rows(database.conn, as_of_date(as_of), plan_id, scope, vi=vi)
    header = [progress.TEMPLATE_HEADERS_VI[c] for c in progress.TEMPLATE_COLUMNS] if vi else None
    target = str(output or STDOUT)
    with text_output(target) as handle:
        render.write_csv(rows, progress.TEMPLATE_COLUMNS, handle, bom=bom, header=header)
    if target != STDOUT:
        say(f"wrote {len(rows)} rows to {target}", err=True)


@app.command("import")
@reported
def import_(
    path: Annotated[str, typer.Argument(metavar="FILE.csv",
                                        help="A filled-in template (CSV, ',' or ';'); - reads standard input.")],
    by: Annotated[str, typer.Option("--by", help="Who records it.")] = "",
):
    """Apply a filled-in template in one transaction: any bad row rejects the whole file.

    Example: civreform template --agency stc > stc.csv, fill it in, then civreform import stc.csv
    """
    from civreform import progress

    data = None
    if path == "-":
        if sys.stdin is None:
            raise fail("standard input is closed; nothing to import", 3)
        data, path = sys.stdin.buffer.read(), "<stdin>"
    database = open_db()
    with progress_bar("checking rows") as advance:
        result = progress.import_csv(database.conn, path, today=today(), by=by or os.environ.get("USER", ""),
                                     progress=advance, data=data, plan=_settings().plan)
    say(f"imported {result['recorded']} event(s) from {result['file']}"
        + (f"; {result['already']} row(s) already recorded" if result["already"] else "")
        + (f"; {result['skipped']} row(s) with no status skipped" if result["skipped"] else ""))


# ── summary, check, backup ──────────────────────────────────────────────────

@app.command()
@reported
def summary(
    as_of: AsOfOption = None,
    days: Annotated[int, typer.Option("--days", "-d", min=0, max=MAX_DAYS,
                                      help="The period looked back and ahead (default 7; 0: today only).")] = 7,
    agency: AgencyOption = None,
    fmt: Annotated[SummaryFormat, typer.Option("--format", "-f", help="text (default), markdown or json.")] = SummaryFormat.text,
    fail_on_overdue: Annotated[bool, typer.Option("--fail-on-overdue", help="Exit with status 1 when anything is overdue.")] = False,
):
    """The weekly report for cron: counts by standing, what changed, what became
    overdue, what falls due, and agencies ranked by overdue milestones.

    Plain text, stable from run to run: two weeks diff cleanly.
    """
    from civreform import reports, summary as summary_text

    database = open_db()
    plan_id = plan_filter(database.conn)
    when = as_of_date(as_of)
    scope = agency_scope(database.conn, agency, plan_id)
    data = reports.summary(database.conn, when, days, plan_id=plan_id, scope=scope)
    if fmt == SummaryFormat.json:
        from civreform import render

        render.write_json_object(data, sys.stdout)
    elif fmt == SummaryFormat.markdown:
        sys.stdout.write(summary_text.as_markdown(data, _settings().lang))
    else:
        sys.stdout.write(summary_text.as_text(data, _settings().lang))
    if fail_on_overdue and data["counts"]["overdue"]:
        raise typer.Exit(1)


@app.command()
@reported
def check(
    repair: Annotated[bool, typer.Option(
        "--repair", help="Work the current-state tables out again from the progress events if they disagree.")] = False,
):
    """Check the database: integrity, schema version, plans, orphaned progress events,
    and that the current-state tables agree with the progress events."""
    from civreform import maintenance
    database = open_db(create=False)
    with progress_bar("checking the database"):  # it reads every page: half a minute for a large archive
        report = maintenance.check(database, repair=repair)
    for line in report.lines:
        say(line)
    if not report.ok:
        raise typer.Exit(3)


@app.command()
@reported
def backup(
    path: Annotated[Path, typer.Argument(help="Where to write the copy (must not exist yet).")],
):
    """Write a consistent copy of the database with SQLite's online backup (safe while others write)."""
    from civreform import maintenance
    database = open_db(create=False)
    with progress_bar("copying the database"):
        pages = maintenance.backup(database, path)
    say(f"backed up {database.path} to {path} ({pages} pages)")


# ── progress bars ───────────────────────────────────────────────────────────

class progress_bar:
    """A Rich progress bar on a terminal only; elsewhere a no-op (nothing on stderr).
    counting: show done/total, the rate and the time left (files of an archive)."""

    def __init__(self, description: str, counting: bool = False):
        self.description = description
        self.counting = counting
        self.progress = None

    def __enter__(self):
        if not sys.stderr.isatty():
            return lambda done, total: None
        from rich.progress import Progress

        from civreform.render import make_console

        columns = Progress.get_default_columns()
        if self.counting:
            from rich.progress import MofNCompleteColumn, TextColumn

            columns = (*columns[:2], MofNCompleteColumn(), TextColumn("{task.fields[rate]}"), columns[-1])
        self.progress = Progress(*columns, transient=True, console=make_console(stderr=True))
        self.progress.start()
        task = self.progress.add_task(self.description, total=None, rate="")

        def advance(done: int, total: int) -> None:  # called once per batch of tasks, or per file
            elapsed = self.progress.tasks[0].elapsed or 0
            rate = f"{done / elapsed:,.1f}/s" if elapsed > 0 else ""
            self.progress.update(task, completed=done, total=total, rate=rate)

        return advance

    def __exit__(self, *exc):
        if self.progress is not None:
            self.progress.stop()
        return False


# The global options that take a value (see main_options), for finding the command name.
GLOBAL_OPTIONS_WITH_VALUE = ("--db", "--lang", "--plan")


def _command_name(info) -> str:
    return info.name or info.callback.__name__.lower().replace("_", "-")  # as Typer names it


def invoked_command(args: list[str]) -> str | None:
    """The command name in a command line, or None (no command: help, --version, a typo)."""
    names = {_command_name(info) for info in app.registered_commands}
    expect_value = False
    for arg in args:
        if expect_value:
            expect_value = False
        elif arg in GLOBAL_OPTIONS_WITH_VALUE:
            expect_value = True
        elif arg == "--":
            return None
        elif not arg.startswith("-"):
            return arg if arg in names else None
    return None


def exact_output(stream) -> None:
    """Output is UTF-8 and its line ends are the ones written, whatever the platform says.
    CSV and JSON are promised as UTF-8 and plan text is Vietnamese: Windows sends
    redirected output in its ANSI code page, and PYTHONIOENCODING may name ASCII (either
    failed on the first "ệ"). CSV ends its lines with CRLF itself: Windows would turn
    each into CR CR LF, a blank row after every row in a spreadsheet."""
    if hasattr(stream, "reconfigure"):
        stream.reconfigure(encoding="utf-8", newline="\n")


def main() -> None:
    """Run the command line. Typer inspects the signature of every command it is given on
    every run (~2 ms for all of them); a command line that names a command gets an app
    with that command alone. Anything else (help, a typo) gets them all, for the list
    and the suggestions."""
    if sys.stdout is None:  # started with its output closed (>&-): Python has nowhere to print
        print("civreform: standard output is closed; nothing was done", file=sys.stderr)
        raise SystemExit(3)
    exact_output(sys.stdout)
    name = invoked_command(sys.argv[1:])
    runner = app
    if name is not None:
        import copy

        runner = copy.copy(app)
        runner.registered_commands = [info for info in app.registered_commands if _command_name(info) == name]
    try:
        runner(prog_name="civreform")
    finally:
        _flush_or_drop_output()


def _flush_or_drop_output() -> None:
    """Flush what is left of the output now: a reader that went away (| head) is met
    here, quietly, rather than in Python's own flush at exit, which prints a warning
    and exits 120."""
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        _drop_output()


def _drop_output() -> None:
    """Point stdout at the null device once its reader has gone, so that nothing later
    (Python's own flush at exit) meets the broken pipe. (Python's docs, "Note on SIGPIPE".)"""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())


if __name__ == "__main__":
    main()
