"""Every word civreform itself prints to a person, in English and in Vietnamese: one
entry a phrase, so that no phrase exists in one language only (a test checks).
Machine formats (CSV, JSON) keep their English keys and codes and never come here.

Vietnamese follows the usage of provincial monitoring reports (shared/DOMAIN.md):
Thời hạn, Chủ trì, Phối hợp, Thuộc nhóm, Mốc, Tình trạng, Kết quả, Minh chứng."""

from __future__ import annotations

# Table headers, by the key of the column they head.
COLUMNS: dict[str, tuple[str, str]] = {
    "task": ("Task", "Nhiệm vụ"),
    "id": ("#", "#"),
    "plan": ("Plan", "Kế hoạch"),
    "number": ("Number", "Số hiệu"),
    "issued": ("Issued", "Ngày ban hành"),
    "title": ("Title", "Tên nhiệm vụ"),
    "plan_title": ("Title", "Trích yếu"),
    "tasks": ("Tasks", "Nhiệm vụ"),
    "events": ("Reports", "Số báo cáo"),
    "code": ("Code", "Mã"),
    "agency": ("Agency", "Cơ quan"),
    "kind": ("Kind", "Loại"),
    "lead_tasks": ("Leads", "Chủ trì"),
    "support_tasks": ("Supports", "Phối hợp"),
    "group_tasks": ("Through groups", "Thuộc nhóm"),
    "members": ("Members", "Thành viên"),
    "lead": ("Lead", "Chủ trì"),
    "via": ("Via group", "Thuộc nhóm"),
    "next_due": ("Next due", "Thời hạn"),
    "due": ("Due", "Thời hạn"),
    "milestone": ("Milestone", "Mốc"),
    "status": ("Status", "Tình trạng"),
    "percent": ("%", "%"),
    "standing": ("Standing", "Kết quả"),
    "days_overdue": ("Days late", "Quá hạn (ngày)"),
    "days_left": ("Days left", "Còn (ngày)"),
    "reason": ("Reason", "Lý do"),
    "now_with": ("Now with", "Nay do"),
    "inherited_from": ("Inherited from", "Tiếp nhận từ"),
    "event_kind": ("Kind", "Loại"),
    "on": ("On", "Ngày"),
    "note": ("Note", "Ghi chú"),
    "evidence": ("Evidence", "Minh chứng"),
    "by": ("By", "Người cập nhật"),
    "found_kind": ("Kind", "Loại"),
    "snippet": ("Where the words are", "Đoạn văn bản"),
    "done_on": ("Done on", "Ngày hoàn thành"),
    "done_on_time": ("On time", "Đúng hạn"),
    "done_late": ("Late", "Quá hạn (đã xong)"),
    "within_deadline": ("Within", "Trong hạn"),
    "overdue": ("Overdue", "Quá hạn"),
    "ongoing": ("Ongoing", "Thường xuyên"),
    "total": ("Total", "Tổng"),
    "on_time_rate": ("On-time rate", "Tỷ lệ đúng hạn"),
}

# Standings: the Government Office's categories (English as tables print the code).
STANDINGS: dict[str, tuple[str, str]] = {
    "done-on-time": ("done-on-time", "đã hoàn thành đúng hạn"),
    "done-late": ("done-late", "đã hoàn thành quá hạn"),
    "within-deadline": ("within-deadline", "chưa hoàn thành, trong hạn"),
    "overdue": ("overdue", "chưa hoàn thành, quá hạn"),
    "ongoing": ("ongoing", "thường xuyên"),
    "pending": ("pending", "chờ sự kiện khởi đầu"),
}
# Standings in plain words (the legend of a timeline, the report, the weekly summary).
STANDING_WORDS: dict[str, tuple[str, str]] = {
    "done-on-time": ("done on time", "đã hoàn thành đúng hạn"),
    "done-late": ("done late", "đã hoàn thành quá hạn"),
    "within-deadline": ("within deadline", "chưa hoàn thành, trong hạn"),
    "overdue": ("overdue", "chưa hoàn thành, quá hạn"),
    "ongoing": ("ongoing (no due date)", "thường xuyên (không có thời hạn)"),
    "pending": ("waiting for its event", "chờ sự kiện khởi đầu"),
}
STATUSES: dict[str, tuple[str, str]] = {
    "not-started": ("not-started", "chưa thực hiện"),
    "in-progress": ("in-progress", "đang thực hiện"),
    "done": ("done", "đã hoàn thành"),
    "blocked": ("blocked", "vướng mắc"),
}
AGENCY_KINDS: dict[str, tuple[str, str]] = {
    "committee": ("committee", "Ủy ban nhân dân"),
    "department": ("department", "sở, ngành"),
    "board": ("board", "ban"),
    "city": ("city", "thành phố"),
    "district": ("district", "huyện"),
    "commune": ("commune", "xã"),
    "group": ("group", "nhóm"),
    "other": ("other", "khác"),
}
MILESTONE_LABELS: dict[str, tuple[str, str]] = {
    "main": ("main", "chính"),
    "pilot": ("pilot", "thí điểm"),
    "all-units": ("all-units", "toàn bộ đơn vị"),
    "interim-review": ("interim-review", "sơ kết"),
    "final-review": ("final-review", "tổng kết"),
}
ROLES: dict[str, tuple[str, str]] = {
    "lead": ("lead", "chủ trì"),
    "support": ("support", "phối hợp"),
    "any": ("lead or support", "chủ trì hoặc phối hợp"),
}

# Titles, empty results, notices and summary sentences; {names} are filled in.
PHRASES: dict[str, tuple[str, str]] = {
    "tasks.title": ("Tasks as of {date}", "Nhiệm vụ tính đến ngày {date}"),
    "tasks.empty": ("no tasks match", "không có nhiệm vụ nào phù hợp"),
    "overdue.title": ("Overdue as of {date}", "Quá hạn tính đến ngày {date}"),
    "overdue.empty": ("nothing overdue as of {date}", "không có mốc nào quá hạn tính đến ngày {date}"),
    "upcoming.title": ("Due from {date} through the next {days} days", "Đến hạn trong {days} ngày kể từ ngày {date}"),
    "upcoming.empty": ("nothing falls due in the {days} days from {date}",
                       "không có mốc nào đến hạn trong {days} ngày kể từ ngày {date}"),
    "history.title": ("Progress history", "Lịch sử báo cáo tiến độ"),
    "history.empty": ("no progress recorded", "chưa có báo cáo tiến độ nào"),
    "history.support": ("support", "phối hợp"),
    "history.retracts": ("retracts #{id}", "thu hồi #{id}"),
    "history.retracted_by": ("retracted by #{id}", "bị thu hồi bởi #{id}"),
    "history.trigger": ("event happened", "sự kiện khởi đầu"),
    "search.title": ("Search: {text}", "Tìm kiếm: {text}"),
    "search.empty": ("nothing matches {text}", "không tìm thấy {text}"),
    "search.task": ("task", "nhiệm vụ"),
    "search.event": ("event", "báo cáo"),
    "plans.empty": ("no plan loaded", "chưa nạp kế hoạch nào"),
    "agencies.empty": ("no agencies", "không có cơ quan nào"),
    "record.done": ("recorded event {event}: {where}{who}: {status}{percent} on {on}; {tail}",
                    "đã ghi báo cáo {event}: {where}{who}: {status}{percent} ngày {on}; {tail}"),
    "record.task": ("task {task}", "nhiệm vụ {task}"),
    "record.milestone": (" milestone {milestone} (due {due})", " mốc {milestone} (thời hạn {due})"),
    "record.on_event": ("on its event", "theo sự kiện"),
    "record.for": (" for {agency}", " của {agency}"),
    "record.standing": ("standing now: {standing}", "kết quả hiện nay: {standing}"),
    "record.support": ("kept as support: {agency} supports this task, so the lead's standing is unchanged "
                       "({standing})", "ghi nhận là phối hợp: {agency} phối hợp thực hiện nhiệm vụ này, kết quả của "
                       "cơ quan chủ trì không đổi ({standing})"),
    "record.member": ("{agency}: {own}; milestone: {standing} ({done}/{units} agencies done)",
                      "{agency}: {own}; mốc: {standing} ({done}/{units} cơ quan đã hoàn thành)"),
    "retract.done": ("recorded event {event}: retracts event {retracts} ({where}){tail}",
                     "đã ghi báo cáo {event}: thu hồi báo cáo {retracts} ({where}){tail}"),
    "trigger.done": ("recorded event {event}: task {task} milestone {milestone}: \"{after}\" happened on {on}; "
                     "now due {due}", "đã ghi báo cáo {event}: nhiệm vụ {task} mốc {milestone}: \"{after}\" "
                     "ngày {on}; thời hạn nay là {due}"),
    "import.done": ("imported {recorded} event(s) from {file}", "đã nhập {recorded} báo cáo từ {file}"),
    "import.already": ("; {count} row(s) already recorded", "; {count} dòng đã được ghi trước đó"),
    "import.skipped": ("; {count} row(s) with no status skipped", "; bỏ qua {count} dòng không có tình trạng"),
    "template.wrote": ("wrote {rows} rows to {target}", "đã ghi {rows} dòng vào {target}"),
    "load.done": ("{verb} plan {plan} ({number}): {tasks} tasks, {milestones} milestones, {agencies} agencies; "
                  "{events} progress events kept", "{verb} kế hoạch {plan} ({number}): {tasks} nhiệm vụ, {milestones} "
                  "mốc, {agencies} cơ quan; giữ nguyên {events} báo cáo tiến độ"),
    "load.loaded": ("loaded", "đã nạp"),
    "load.unchanged": ("unchanged plan {plan}: {path} is as loaded; nothing to do",
                       "kế hoạch {plan} không đổi: {path} như lần nạp trước; không có gì phải làm"),
    "load.files": ("{loaded} plan(s) loaded or updated, {unchanged} unchanged, {failed} failed, of {files} file(s)",
                   "{loaded} kế hoạch đã nạp hoặc cập nhật, {unchanged} không đổi, {failed} lỗi, trên {files} tệp"),
    "load.updated": ("updated", "đã cập nhật"),
    "load.orphans": ("civreform: {count} progress event(s) belong to tasks or milestones no longer in the plan; "
                     "they are kept (see `civreform check`)", "civreform: {count} báo cáo tiến độ thuộc nhiệm vụ hoặc "
                     "mốc không còn trong kế hoạch; vẫn được giữ lại (xem `civreform check`)"),
    "report.wrote": ("wrote the report to {target}", "đã ghi báo cáo vào {target}"),
    "register.done": ("{verb} the agency register of {province}: {agencies} agencies, {memberships} group "
                      "memberships; {events} progress events kept", "{verb} danh mục cơ quan của {province}: "
                      "{agencies} cơ quan, {memberships} quan hệ thuộc nhóm; giữ nguyên {events} báo cáo tiến độ"),
    "register.unknown": ("civreform: plan {plan} names agencies the register does not know: {codes}",
                         "civreform: kế hoạch {plan} có cơ quan không có trong danh mục: {codes}"),
    "backup.done": ("backed up {source} to {target}", "đã sao lưu {source} vào {target}"),
    "created": ("civreform: no database at {path}; created it and loaded the bundled plan {number} ({tasks} tasks)",
                "civreform: chưa có cơ sở dữ liệu tại {path}; đã tạo và nạp kế hoạch kèm theo {number} "
                "({tasks} nhiệm vụ)"),
    "show.milestones": ("Milestones as of {date}", "Các mốc tính đến ngày {date}"),
    "show.ongoing": ("Ongoing (no due date); latest status: ", "Thường xuyên (không có thời hạn); tình trạng mới nhất: "),
    "show.by_agency": ("Reports by agency", "Báo cáo theo cơ quan"),
    "show.support": ("Progress reported by supporting agencies (does not change the standing)",
                     "Tiến độ do cơ quan phối hợp báo cáo (không thay đổi kết quả)"),
    "show.content": ("Content", "Nội dung"),
    "show.lead_source": ("Lead (source)", "Chủ trì (văn bản)"),
    "show.support_source": ("Support (source)", "Phối hợp (văn bản)"),
    "show.support_agencies": ("Support", "Phối hợp"),
    "show.deadline_source": ("Deadline (source)", "Thời gian (văn bản)"),
    "show.target": ("Target", "Chỉ tiêu"),
    "summary.title": ("civreform summary: ", "civreform báo cáo tóm tắt: "),
    "summary.no_plan": ("no plan loaded", "chưa nạp kế hoạch nào"),
    "summary.agency": (" — {agency}", " — {agency}"),
    "summary.as_of": ("As of {date}; the last {days} days are {start} to {end}.",
                      "Tính đến ngày {date}; {days} ngày qua là từ {start} đến {end}."),
    "summary.by_standing": ("Milestones by standing", "Các mốc theo kết quả"),
    "summary.ongoing_tasks": ("ongoing tasks (no due date)", "nhiệm vụ thường xuyên (không có thời hạn)"),
    "summary.share_done": ("share done", "tỷ lệ hoàn thành"),
    "summary.of_milestones": ("({done} of {total} milestones)", "({done} trên {total} mốc)"),
    "summary.changes": ("Progress recorded for the last {days} days ({count})",
                        "Báo cáo tiến độ trong {days} ngày qua ({count})"),
    "summary.became_overdue": ("Became overdue in the last {days} days ({count})",
                               "Trở thành quá hạn trong {days} ngày qua ({count})"),
    "summary.due_soon": ("Due in the next {days} days ({count})", "Đến hạn trong {days} ngày tới ({count})"),
    "summary.due_30": ("Due in the next 30 days ({count})", "Đến hạn trong 30 ngày tới ({count})"),
    "summary.agencies": ("Agencies by overdue milestones", "Cơ quan theo số mốc quá hạn"),
    "summary.none": ("(none)", "(không có)"),
    "summary.milestone_line": ("task {task} {milestone}, due {due}, {lead}, {status}{units}: ",
                               "nhiệm vụ {task} {milestone}, thời hạn {due}, {lead}, {status}{units}: "),
    "summary.units": (" {done}/{units} done", " {done}/{units} đã xong"),
    "summary.change": ("{on} task {task}{milestone}{who}: {status}{percent}",
                       "{on} nhiệm vụ {task}{milestone}{who}: {status}{percent}"),
    "timeline.title": ("Timeline as of {date}", "Tiến độ theo quý tính đến ngày {date}"),
    "scorecard.title": ("Agencies as of {date}, worst first", "Kết quả theo cơ quan tính đến ngày {date}"),
    "scorecard.empty": ("no agency owes anything", "không có cơ quan nào"),
}


# The report to hand up (`civreform report`): its headings and sentences.
REPORT: dict[str, tuple[str, str]] = {
    "report": ("Report", "Báo cáo"),
    "on_plan": ("on carrying out Plan", "tình hình thực hiện Kế hoạch số"),
    "of": ("of", "của"),
    "as_of": ("As of", "Tính đến ngày"),
    "made": ("Made on {at} from the database {db}.", "Lập lúc {at} từ cơ sở dữ liệu {db}."),
    "plan": ("Plan", "Kế hoạch"),
    "issued": ("issued", "ngày"),
    "period": ("period", "giai đoạn"),
    "signed": ("signed by", "người ký"),
    "results": ("1. Results", "I. Kết quả thực hiện"),
    "categories": ("Milestones by standing", "Các mốc theo kết quả"),
    "completed": ("Completed", "Đã hoàn thành"),
    "not_completed": ("Not completed", "Chưa hoàn thành"),
    "ongoing_tasks": ("Ongoing tasks (no due date)", "Nhiệm vụ thường xuyên (không có hạn)"),
    "pending": ("Waiting for their event", "Chờ sự kiện khởi đầu"),
    "share": ("Share done", "Tỷ lệ hoàn thành"),
    "share_of": ("{done} of {total} milestones", "{done}/{total} mốc"),
    "timeline": ("2. Timeline by quarter", "II. Tiến độ theo quý"),
    "agencies": ("3. Agencies, worst first", "III. Kết quả theo cơ quan (thấp nhất trước)"),
    "overdue": ("4. Overdue milestones: what is behind and why", "IV. Tồn tại, hạn chế và nguyên nhân: các mốc quá hạn"),
    "upcoming": ("5. Falling due in the next {days} days", "V. Nhiệm vụ thời gian tới: đến hạn trong {days} ngày tới"),
    "recent": ("6. Progress recorded in the last {days} days", "VI. Tiến độ cập nhật trong {days} ngày qua"),
    "none_overdue": ("Nothing is overdue.", "Không có mốc nào quá hạn."),
    "none_upcoming": ("Nothing falls due.", "Không có mốc nào đến hạn."),
    "none_recent": ("No progress was recorded.", "Không có cập nhật nào."),
    "task": ("Task", "TT"),
    "title": ("Title", "Nhiệm vụ"),
    "lead": ("Lead", "Chủ trì"),
    "milestone": ("Milestone", "Mốc"),
    "due": ("Due", "Thời hạn"),
    "days_overdue": ("Days overdue", "Quá hạn (ngày)"),
    "days_left": ("Days left", "Còn (ngày)"),
    "status": ("Status", "Tình trạng"),
    "note": ("Latest note", "Ghi chú"),
    "agency": ("Agency", "Cơ quan"),
    "on_time": ("On time", "Đúng hạn"),
    "late": ("Done late", "Hoàn thành quá hạn"),
    "within": ("Within deadline", "Trong hạn"),
    "overdue_col": ("Overdue", "Quá hạn"),
    "ongoing": ("Ongoing", "Thường xuyên"),
    "total": ("Total", "Tổng"),
    "rate": ("On-time rate", "Tỷ lệ đúng hạn"),
    "on": ("On", "Ngày"),
    "evidence": ("Evidence", "Văn bản / Minh chứng"),
    "by": ("Recorded by", "Người cập nhật"),
    "waiting": ("Waiting", "Chờ"),
    "rate_note": ("On-time rate = done on time ÷ (done on time + done late + overdue); empty while nothing is due.", "Tỷ lệ đúng hạn = số mốc hoàn thành đúng hạn ÷ (hoàn thành đúng hạn + hoàn thành quá hạn + chưa hoàn thành quá hạn); để trống khi chưa có mốc nào đến hạn."),
}

ALL = {"column": COLUMNS, "standing": STANDINGS, "standing_words": STANDING_WORDS, "status": STATUSES, "kind": AGENCY_KINDS,
       "milestone": MILESTONE_LABELS, "role": ROLES, "phrase": PHRASES, "report": REPORT}


def _pick(table: dict[str, tuple[str, str]], key: str, lang: str, default: str | None = None) -> str:
    pair = table.get(key)
    if pair is None:
        return key if default is None else default
    return pair[1] if lang == "vi" else pair[0]


def column(key: str, lang: str) -> str:
    return _pick(COLUMNS, key.lstrip("_"), lang)


def phrase(key: str, lang: str, **values) -> str:
    english, vietnamese = PHRASES[key]
    return (vietnamese if lang == "vi" else english).format(**values)


def standing(value: str | None, lang: str) -> str:
    return _pick(STANDINGS, value or "", lang, value or "")


def standing_words(value: str | None, lang: str) -> str:
    return _pick(STANDING_WORDS, value or "", lang, value or "")


def status(value: str | None, lang: str) -> str:
    return _pick(STATUSES, value or "", lang, value or "")


def kind(value: str | None, lang: str) -> str:
    return _pick(AGENCY_KINDS, value or "", lang, value or "")


def role(value: str, lang: str) -> str:
    return _pick(ROLES, value, lang)


def milestone(label: str | None, lang: str, label_vi: str | None = None) -> str:
    """A milestone label as a person reads it: in Vietnamese the plan's own words
    (label_vi) or the usual term; a year stays a year."""
    if lang != "vi" or not label:
        return label or ""
    if label_vi:
        return label_vi
    head, _, year = label.rpartition("-")
    if head in MILESTONE_LABELS and year.isdigit():
        return f"{MILESTONE_LABELS[head][1]} {year}"
    return _pick(MILESTONE_LABELS, label, lang, label)


def day(iso: str | None, lang: str) -> str:
    """A date as a person writes it: ISO in English, 31/12/2013 in Vietnamese."""
    if not iso:
        return ""
    if lang != "vi":
        return iso
    year, month, dd = iso[:10].split("-")
    return f"{dd}/{month}/{year}"
