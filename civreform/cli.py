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
    add_completion=True,  # --install-completion / --show-completion for bash, zsh and fish
)


# ── Shell completion: values from the database, read-only (never creating it) ──

def _completions(sql: str, incomplete: str) -> list[tuple[str, str]]:
    """(value, description) rows of `sql` whose value starts with what was typed; nothing
    when there is no database or it cannot be read (completion must never fail loudly)."""
    from civreform.db import open_database, resolve_db_path
    from civreform.errors import CivreformError

    try:
        path, _default = resolve_db_path(os.environ.get("CIVREFORM_DB"))
        database = open_database(path, create=False)
    except (CivreformError, OSError, ValueError):
        return []
    try:
        return [(value, description or "") for value, description in database.conn.execute(sql, (incomplete,))]
    except Exception:  # noqa: BLE001 (a damaged database: no suggestions)
        return []
    finally:
        database.close()


def complete_task(incomplete: str) -> list[tuple[str, str]]:
    return _completions("SELECT DISTINCT task_id, title_en FROM tasks WHERE task_id LIKE ? || '%' ORDER BY plan_id, seq",
                        incomplete)


def complete_agency(incomplete: str) -> list[tuple[str, str]]:
    return _completions("SELECT DISTINCT code, name FROM agencies WHERE code LIKE ? || '%' ORDER BY code", incomplete)


def complete_plan(incomplete: str) -> list[tuple[str, str]]:
    return _completions("SELECT plan_id, number FROM plans WHERE plan_id LIKE ? || '%' ORDER BY plan_id", incomplete)


def complete_milestone(incomplete: str) -> list[tuple[str, str]]:
    return _completions("SELECT DISTINCT label, NULL FROM milestones WHERE label LIKE ? || '%' ORDER BY label",
                        incomplete)


def complete_status(incomplete: str) -> list[str]:
    from civreform.progress import STATUSES

    return [status for status in STATUSES if status.startswith(incomplete)]


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
    "--agency", "-a", autocompletion=complete_agency,
    help="Agency code or any part of its name, with or without diacritics (\"hai hau\").")]
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
    "plan_here": Annotated[Optional[str], typer.Option("--plan", autocompletion=complete_plan, help="Only this plan (as before the command).")],
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
    lang: Annotated[str, typer.Option(
        "--lang", envvar="CIVREFORM_LANG", show_envvar=True, metavar="en|vi",
        help="Language of what tables and messages say: en or vi. CSV/JSON keep English keys.")] = "en",
    plan: Annotated[Optional[str], typer.Option(
        "--plan", envvar="CIVREFORM_PLAN", autocompletion=complete_plan, help="Only this plan (its id or number), when several are loaded.")] = None,
    version: Annotated[bool, typer.Option("--version", is_eager=True, callback=_print_version,
                                          help="Print the version and exit.")] = False,
):
    """civreform: is the plan being carried out? Start with `civreform overdue`."""
    for name, value in (("--db", db), ("--plan", plan)):
        _refuse_blank(name, value)
    if lang not in [item.value for item in Lang]:
        where = "CIVREFORM_LANG" if _from_environment("lang") else "--lang"
        raise fail(f"{where}={lang!r}: civreform speaks en or vi", 2)
    ctx.obj = AppContext(db, lang, plan)


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
        result = load_bundled(database.conn)
        say(words("created", path=path, number=result.number, tasks=result.tasks), err=True)
    return database


def load_bundled(conn, progress=None):
    """The bundled plan with the bundled register of its province (Nam Định), which
    says who belongs to "Các sở, ban, ngành" and "UBND cấp huyện" on each day."""
    from civreform.loading import store_plan
    from civreform.plan import bundled_plan_path, read_plan_file

    plan = read_plan_file(bundled_plan_path())
    store_bundled_register(conn)
    return store_plan(conn, plan, progress=progress)


def store_bundled_register(conn) -> None:
    """Nam Định's agency register, unless a register of the province is stored already."""
    from civreform.register import bundled_register_path, read_register_file
    from civreform.register_store import store_register

    register = read_register_file(bundled_register_path())
    if conn.execute("SELECT 1 FROM register_agencies WHERE province = ? LIMIT 1",
                    (register.province,)).fetchone() is None:
        store_register(conn, register)


def as_of_date(value: str | None) -> date:
    from civreform.dates import parse_user_date
    from civreform.errors import DateInputError

    try:
        return parse_user_date(value, today()) if value else today()
    except DateInputError as error:
        if _from_environment("as_of"):
            raise fail(f"CIVREFORM_AS_OF={value!r}: {error}", 2) from None
        raise


def _from_environment(name: str) -> bool:
    """Whether this command's parameter `name` took its value from an environment variable."""
    from typer._click.core import ParameterSource
    from typer._click.globals import get_current_context

    ctx = get_current_context(silent=True)
    return ctx is not None and ctx.get_parameter_source(name) == ParameterSource.ENVIRONMENT


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


DATE_COLUMNS = ("due", "next_due", "on", "last_update", "issued", "period_start", "period_end")


def for_table(rows, title_key: str = "title", names: dict | None = None):
    """Rows with the language-dependent display fields the tables show: titles,
    standings, statuses and milestone labels in the chosen language; in Vietnamese,
    dates as 31/12/2013 and lead agencies by name (`names`: {(plan, code): name})."""
    from civreform import words as catalogue

    lang = _settings().lang
    for row in rows:
        shown = dict(row)
        shown["_title"] = label(row, title_key)
        shown["_standing"] = catalogue.standing(row.get("standing"), lang)
        shown["_status"] = catalogue.status(row.get("status"), lang)
        percent = row.get("percent")
        shown["_percent"] = "" if percent is None else f"{percent}%"
        if row.get("units") and row["units"] > 1:
            shown["_status"] += f" ({row['units_done']}/{row['units']})"
        if "milestone" in row:
            shown["milestone"] = catalogue.milestone(row["milestone"], lang, row.get("label_vi"))
        if lang == "vi":
            for key in DATE_COLUMNS:
                if isinstance(row.get(key), str):
                    shown[key] = catalogue.day(row[key], lang)
            if names and isinstance(row.get("lead"), list):
                shown["lead"] = "; ".join(names.get((row.get("plan"), code), code) for code in row["lead"])
        yield shown


def words(key: str, **values) -> str:
    """A phrase of the catalogue (words.py) in the chosen language; a `date` value is
    written as the language writes dates."""
    from civreform import words as catalogue

    lang = _settings().lang
    if "date" in values:
        values["date"] = catalogue.day(values["date"], lang)
    return catalogue.phrase(key, lang, **values)


def headers(*keys: str | tuple[str, str]) -> list[tuple[str, str]]:
    """Table columns: each a row key (its header from the catalogue's COLUMNS), or
    (row key, catalogue key) where the header is another column's."""
    from civreform import words as catalogue

    lang = _settings().lang
    pairs = [key if isinstance(key, tuple) else (key, key) for key in keys]
    return [(key, catalogue.column(name, lang)) for key, name in pairs]


def with_successors(conn, rows, day: date):
    """Listing rows with now_with: for each lead that no longer exists on `day`, who
    answers for its tasks then (the agency register's successors)."""
    from civreform.reports import successor_now

    for row in rows:
        answers = successor_now(conn, row["lead"], day)
        yield {**row, "now_with": [f"{code}>{answers[code]}" for code in row["lead"] if code in answers]}


def lead_names(conn) -> dict | None:
    """{(plan, code): name} for tables in Vietnamese, which show agencies by name."""
    if _settings().lang != "vi":
        return None
    return {(plan, code): name for plan, code, name in conn.execute("SELECT plan_id, code, name FROM agencies")}


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
    if not paths:  # the bundled plan comes with its province's agency register
        store_bundled_register(open_db(autoload=False).conn)
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
                    say(words("load.unchanged", plan=outcome.plan_id, path=outcome.path))
            else:
                loaded += 1
                _say_loaded(outcome.result)
    if len(files) > 1:
        say(words("load.files", loaded=loaded, unchanged=unchanged, failed=len(problems), files=len(files)))
    for problem in problems:
        say(f"civreform: {problem}", err=True)
    if problems:
        raise typer.Exit(3)


def _say_loaded(result) -> None:
    say(words("load.done", verb=words("load.updated" if result.replaced else "load.loaded"), plan=result.plan_id,
              number=result.number, tasks=result.tasks, milestones=result.milestones, agencies=result.agencies,
              events=result.events_kept))
    if result.orphaned_events:
        say(words("load.orphans", count=result.orphaned_events), err=True)


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
        "plan", "number", "issued", ("_title", "plan_title"), "tasks", "events"), bom=bom,
        empty=words("plans.empty"))


@app.command()
@reported
def agencies(
    action: Annotated[Optional[str], typer.Argument(metavar="[load FILE]", help="load FILE: store an agency register.")] = None,
    file: Annotated[Optional[Path], typer.Argument(metavar="", hidden=True)] = None,
    as_of: Annotated[Optional[str], typer.Option(
        "--as-of", help="Add how each agency's milestones stand that day (as `scorecard` counts them).")] = None,
    fmt: FormatOption = Format.table,
    bom: BomOption = False,
):
    """List agencies with the tasks each leads, supports and owes through its groups;
    `civreform agencies load FILE` stores an agency register (as `register FILE`)."""
    from civreform import reports, render

    if action is not None:
        if action != "load" or file is None:
            raise fail(f"agencies: {action!r}: the only action is `load FILE`", 2)
        store_register_file(file)
        return

    database = open_db()
    plan_id = plan_filter(database.conn)
    rows = reports.list_agencies(database.conn, plan_id)
    from civreform import words as catalogue

    lang = _settings().lang
    standing_columns = []
    if as_of:
        from civreform import views

        counts = {(row["plan"], row["agency"]): row
                  for row in views.scorecard(database.conn, as_of_date(as_of), plan_id=plan_id)}
        standing_columns = ["done_on_time", "done_late", "within_deadline", "overdue", "ongoing", "total"]
        rows = [{**row, **{key: counts.get((row["plan"], row["code"]), {}).get(key, 0) for key in standing_columns}}
                for row in rows]

    def shown(rows):
        for row in rows:
            yield {**row, "_name": row["name"] if lang == "vi" else (row["name_en"] or row["name"]),
                   "_kind": catalogue.kind(row["kind"], lang)}

    columns = ["plan", "code", "name", "name_en", "kind", "lead_tasks", "support_tasks", "group_tasks", "members",
               "groups", "note", *standing_columns]
    render.write_rows(rows, fmt.value, columns=columns, display=shown, table_columns=headers(
        "code", ("_name", "agency"), ("_kind", "kind"), "lead_tasks", "support_tasks", "group_tasks",
        *(standing_columns or ["members"])), bom=bom,
        empty=words("agencies.empty"))


# ── tasks, show ─────────────────────────────────────────────────────────────

@app.command()
@reported
def tasks(
    agency: AgencyOption = None,
    role: Annotated[Role, typer.Option("--role", help="lead (default), support or any.")] = Role.lead,
    direct: Annotated[bool, typer.Option("--direct", help="Only tasks that name the agency itself, not its groups.")] = False,
    standing: Annotated[Optional[Standing], typer.Option("--standing", help="Only tasks with this standing.")] = None,
    successors: Annotated[bool, typer.Option(
        "--successors", help="With --agency: also the tasks of the bodies it took over (the agency register).")] = False,
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
    inherited = reports.predecessors(database.conn, scope.code, max(when, today())) if scope and successors else []
    rows = reports.list_tasks(database.conn, when, plan_id=plan_id, scope=scope, role=role.value,
                              standing=standing.value if standing else None, inherited=inherited)
    from civreform import words as catalogue

    table_columns = ["task", "_title", "lead", *(["via"] if scope is not None else []),
                     *(["inherited_from"] if inherited else []), "next_due", "_status", "_percent", "_standing"]
    title = (words("tasks.title", date=when.isoformat())
             + (f" — {scope.name} ({catalogue.role(role.value, _settings().lang)})" if scope else ""))
    names = lead_names(database.conn)
    render.write_rows(rows, fmt.value, display=lambda rows: for_table(rows, names=names),
                      columns=reports.TASK_COLUMNS, table_columns=headers(*table_columns), title=title, bom=bom,
                      empty=words("tasks.empty"))


@app.command()
@reported
def show(
    task_id: Annotated[str, typer.Argument(metavar="ID", autocompletion=complete_task, help="Task id, e.g. 13 or IV.2-plan.")],
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

MILESTONE_TABLE = ("task", "milestone", "due")


@app.command()
@reported
def overdue(
    as_of: AsOfOption = None,
    agency: AgencyOption = None,
    fmt: FormatOption = Format.table,
    bom: BomOption = False,
    fail_on_overdue: Annotated[bool, typer.Option("--fail-on-overdue", help="Exit with status 1 when anything is overdue.")] = False,
    successors: Annotated[bool, typer.Option(
        "--successors", help="Add now_with: who answers today for a lead that no longer exists.")] = False,
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
    columns = reports.OVERDUE_COLUMNS
    if successors:
        rows, columns = with_successors(database.conn, rows, max(when, today())), [*columns, "now_with"]
    title = words("overdue.title", date=when.isoformat()) + (f" — {scope.name}" if scope else "")
    names = lead_names(database.conn)
    count = render.write_rows(rows, fmt.value, display=lambda rows: for_table(rows, names=names),
                              columns=columns, bom=bom,
                              table_columns=headers(*MILESTONE_TABLE, "days_overdue", "lead",
                                                    *(["now_with"] if successors else []), "_status", "_percent",
                                                    "_title", "reason"),
                              title=title, empty=words("overdue.empty", date=when.isoformat()))
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
    title = words("upcoming.title", date=when.isoformat(), days=days) + (f" — {scope.name}" if scope else "")
    names = lead_names(database.conn)
    render.write_rows(rows, fmt.value, display=lambda rows: for_table(rows, names=names),
                      columns=reports.UPCOMING_COLUMNS, bom=bom,
                      table_columns=headers(*MILESTONE_TABLE, "days_left", "lead", "_status", "_percent", "_title",
                                            "reason"),
                      title=title, empty=words("upcoming.empty", date=when.isoformat(), days=days))


# ── progress ────────────────────────────────────────────────────────────────

@app.command()
@reported
def record(
    task_id: Annotated[str, typer.Argument(metavar="ID", autocompletion=complete_task, help="Task id, e.g. 21 or IV.2-plan.")],
    status: Annotated[str, typer.Option("--status", "-s", autocompletion=complete_status, help="not-started, in-progress, done or blocked.")],
    percent: Annotated[Optional[int], typer.Option("--percent", "-p", help="0 to 100 (done means 100).")] = None,
    on: Annotated[Optional[str], typer.Option("--on", help="When it happened (default today).")] = None,
    note: Annotated[str, typer.Option("--note", help="Free text.")] = "",
    evidence: Annotated[str, typer.Option("--evidence", help="The document that proves it, e.g. \"Quyết định 1234/QĐ-UBND ngày 20/12/2013\".")] = "",
    milestone: Annotated[Optional[str], typer.Option("--milestone", "-m", autocompletion=complete_milestone, help="Milestone label or due year (default: the earliest not yet done).")] = None,
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
    from civreform import words as catalogue

    lang = _settings().lang

    def standing(value):
        return catalogue.standing(value, lang)

    where = words("record.task", task=result["task"])
    if result["milestone"]:
        due = catalogue.day(result["due"], lang) if result["due"] else words("record.on_event")
        where += words("record.milestone", milestone=catalogue.milestone(result["milestone"], lang), due=due)
    who = words("record.for", agency=result["agency"]) if result["agency"] else ""
    percent = "" if result["percent"] is None else f" {result['percent']}%"
    tail = words("record.standing", standing=standing(result["standing"]))
    if result.get("role") == "support":
        tail = words("record.support", agency=result["agency"], standing=standing(result["standing"]))
    elif "agency_standing" in result:
        tail = words("record.member", agency=result["agency"], own=standing(result["agency_standing"]),
                     standing=standing(result["standing"]), done=result["units_done"], units=result["units"])
    return words("record.done", event=result["event"], where=where, who=who,
                 status=catalogue.status(result["status"], lang), percent=percent,
                 on=catalogue.day(result["on"], lang), tail=tail)


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
    from civreform import words as catalogue

    where = words("record.task", task=result["task"]) + (f" {result['milestone']}" if result["milestone"] else "")
    tail = ("; " + words("record.standing", standing=catalogue.standing(result["standing"], _settings().lang))
            if "standing" in result else "")
    say(words("retract.done", event=result["event"], retracts=result["retracts"], where=where, tail=tail))


@app.command()
@reported
def trigger(
    task_id: Annotated[str, typer.Argument(metavar="ID", autocompletion=complete_task, help="A task whose deadline waits for an event.")],
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
    say(words("trigger.done", event=result["event"], task=result["task"], milestone=result["milestone"],
              after=result["after_event"], on=result["on"], due=result["due"]))


@app.command()
@reported
def history(
    task_id: Annotated[Optional[str], typer.Argument(metavar="[ID]", autocompletion=complete_task, help="Only this task.")] = None,
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
        "id", "task", "milestone", "agency", ("_kind", "event_kind"), ("_status", "status"), "percent", "on", "note",
        "evidence", "by"), display=history_display, title=words("history.title"), empty=words("history.empty"))


def history_display(rows):
    """What a person reads in history: its Kind column (support, a retraction, a
    retracted event), statuses, milestone labels and dates in the chosen language."""
    from civreform import words as catalogue

    lang = _settings().lang
    kinds = {("progress", "lead"): None, ("progress", "support"): "history.support",
             ("retraction", ""): "history.retracts", ("trigger", ""): "history.trigger"}
    for row in rows:
        key = kinds[(row["kind"], row["role"])]
        kind = words(key, id=row["retracts"]) if key else ""
        if row["retracted_by"]:
            kind = (kind + " " if kind else "") + words("history.retracted_by", id=row["retracted_by"])
        yield {**row, "_kind": kind, "_status": catalogue.status(row["status"], lang),
               "milestone": catalogue.milestone(row["milestone"], lang), "on": catalogue.day(row["on"], lang)}


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
        say(words("template.wrote", rows=len(rows), target=target), err=True)


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
        from civreform.progress import IMPORT_LIMIT

        data, path = sys.stdin.buffer.read(IMPORT_LIMIT + 1), "<stdin>"
    database = open_db()
    with progress_bar("checking rows") as advance:
        result = progress.import_csv(database.conn, path, today=today(), by=by or os.environ.get("USER", ""),
                                     progress=advance, data=data, plan=_settings().plan)
    say(words("import.done", recorded=result["recorded"], file=result["file"])
        + (words("import.already", count=result["already"]) if result["already"] else "")
        + (words("import.skipped", count=result["skipped"]) if result["skipped"] else ""))


# ── search ──────────────────────────────────────────────────────────────────

@app.command()
@reported
def search(
    text: Annotated[str, typer.Argument(metavar="TEXT", help="Words to find, with or without diacritics.")],
    fmt: FormatOption = Format.table,
    bom: BomOption = False,
):
    """Find tasks by the words of their titles and content (Vietnamese or English) and
    events by their notes and evidence; case and diacritics do not matter ("vi tri
    viec lam" finds "vị trí việc làm", "dang" finds "Đảng"). Best matches first.

    Example: civreform search "vi tri viec lam"
    """
    from civreform import render, search as searching

    database = open_db()
    rows = searching.search(database.conn, text, plan_filter(database.conn))
    shown = ({**row, "_title": label(row, "title"),
              "_kind": words(f"search.{row['kind']}"),
              "_ref": row["task"] if row["kind"] == "task" else f"{row['task']} #{row['event']}"} for row in rows)
    render.write_rows(shown, fmt.value, columns=searching.SEARCH_COLUMNS, bom=bom, table_columns=headers(
        ("_kind", "found_kind"), ("_ref", "task"), "_title", "snippet"),
        title=words("search.title", text=text), empty=words("search.empty", text=repr(text)))


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
        "--repair", help="Restore missing append-only triggers; rebuild the search index if it disagrees.")] = False,
):
    """Check the database: integrity, schema version, plans, orphaned progress events,
    the triggers that keep the event log append-only, and the search index."""
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
        maintenance.backup(database, path)
    say(words("backup.done", source=database.path, target=path))


# ── timeline, scorecard, report ─────────────────────────────────────────────

@app.command()
@reported
def timeline(
    as_of: AsOfOption = None,
    agency: AgencyOption = None,
    fmt: FormatOption = Format.table,
    bom: BomOption = False,
):
    """The plan by quarter: one row per task, a mark in each quarter where a milestone
    falls due, showing how it stands on the as-of date (ongoing tasks run across).

    CSV and JSON carry one row per milestone with its quarter (2013-Q4).

    Example: civreform timeline --as-of 2014-01-01 --lang vi
    """
    from civreform import render, views

    database = open_db()
    plan_id = plan_filter(database.conn)
    scope = agency_scope(database.conn, agency, plan_id)
    when = as_of_date(as_of)
    data = views.timeline(database.conn, when, plan_id=plan_id, scope=scope)
    if fmt in (Format.csv, Format.json):
        render.write_rows(data["milestones"], fmt.value, columns=views.TIMELINE_COLUMNS, table_columns=[], bom=bom)
        return
    title = words("timeline.title", date=when.isoformat()) + (f" — {scope.name}" if scope else "")
    render.write_timeline(data, fmt.value, _settings().lang == "vi", title, empty=words("tasks.empty"))


@app.command()
@reported
def scorecard(
    as_of: AsOfOption = None,
    fmt: FormatOption = Format.table,
    bom: BomOption = False,
):
    """Agencies by how they stand: milestones done on time, done late, within
    deadline, overdue and ongoing, and the on-time rate, worst first.

    A department or district counts its own reports on tasks every department or
    district carries out. on_time_rate = done on time / (done on time + done late +
    overdue), empty while nothing is due.

    Example: civreform scorecard --as-of 2014-12-31 --format csv
    """
    from civreform import render, views

    database = open_db()
    when = as_of_date(as_of)
    rows = views.scorecard(database.conn, when, plan_id=plan_filter(database.conn))
    vi = _settings().lang == "vi"

    def shown(rows):
        for row in rows:
            rate = row["on_time_rate"]
            yield {**row, "_name": row["name"] if vi else row["name_en"] or row["name"],
                   "_rate": "" if rate is None else f"{rate * 100:.0f}%"}

    render.write_rows(rows, fmt.value, display=shown, bom=bom, columns=views.SCORECARD_COLUMNS,
                      table_columns=headers(
                          ("agency", "code"), ("_name", "agency"), "done_on_time", "done_late", "within_deadline",
                          "overdue", "ongoing", "total", ("_rate", "on_time_rate")),
                      title=words("scorecard.title", date=when.isoformat()), empty=words("scorecard.empty"))


class ReportFormat(str, Enum):
    html = "html"
    markdown = "markdown"


@app.command()
@reported
def report(
    as_of: AsOfOption = None,
    output: Annotated[Optional[Path], typer.Option("--output", "-o", help="Write to this file (HTML needs one).")] = None,
    fmt: Annotated[ReportFormat, typer.Option("--format", "-f", help="html (default) or markdown (for e-mail).")] = ReportFormat.html,
):
    """The report to hand up: the plan, the counts in the four categories, the quarter
    timeline, the agency scorecard, what is overdue and why, what falls due in the
    next 90 days and the progress recorded in the last 30 days.

    HTML is one self-contained file (no network, prints on A4 landscape); Markdown
    goes to stdout unless -o names a file.

    Example: civreform --lang vi report --as-of 2014-12-31 -o bao_cao.html
    """
    from datetime import datetime

    from civreform import report_html, views

    if fmt == ReportFormat.html and output is None:
        raise fail("an HTML report needs a file: -o report.html (or --format markdown for stdout)", 2)
    if output is not None and not (output.parent or Path(".")).is_dir():
        raise fail(f"{output.parent}: no such folder; the report was not written", 3)
    database = open_db()
    plan_id = views.one_plan(database.conn, plan_filter(database.conn))
    data = views.report_data(database.conn, as_of_date(as_of), plan_id)
    data["made"] = {"at": datetime.now().replace(microsecond=0).isoformat(sep=" "), "db": str(database.path)}
    lang = _settings().lang
    text = report_html.as_html(data, lang) if fmt == ReportFormat.html else report_html.as_markdown(data, lang)
    from civreform.output_files import STDOUT, text_output

    target = str(output or STDOUT)
    with text_output(target) as handle:  # as every file civreform writes where you tell it
        handle.write(text)
    if target != STDOUT:
        say(words("report.wrote", target=target), err=True)


@app.command()
@reported
def register(
    path: Annotated[Optional[Path], typer.Argument(
        help="An agency register (YAML). Default: the bundled register of Nam Định.")] = None,
):
    """Validate a province's agency register and store it, in one transaction.

    The register says who belongs to a group such as "Các sở, ban, ngành" on a given
    day, and who took over the tasks of a body that merged or ended. Loading it again
    (edited) replaces that province's register; recorded progress is never touched.
    The group-led tasks of the province's plans (--plan: that plan) get their members
    from it.

    Example: civreform register data/agencies/nam_dinh.yaml
    """
    store_register_file(path)


def store_register_file(path: Path | None) -> None:
    """`register FILE` and `agencies load FILE`: read, store, say what changed."""
    from civreform.register import bundled_register_path, plan_agencies, read_register_file
    from civreform.register_store import plans_for_province, store_register

    register_data = read_register_file(path or bundled_register_path())
    database = open_db()
    plan_ids = [plan_filter(database.conn)] if _settings().plan else plans_for_province(
        database.conn, register_data.province)
    result = store_register(database.conn, register_data, plan_ids)
    say(words("register.done", verb=words("load.updated" if result.replaced else "load.loaded"),
              province=result.province, agencies=result.agencies, memberships=result.memberships,
              events=result.events_kept))
    from civreform.reports import list_agencies

    for plan_id in result.plans:
        unknown = plan_agencies(register_data, [row["code"] for row in list_agencies(database.conn, plan_id)])
        if unknown:
            say(words("register.unknown", plan=plan_id, codes=", ".join(unknown)), err=True)


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
