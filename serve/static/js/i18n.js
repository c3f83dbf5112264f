// Every string the viewer shows, Chinese first. `t(key)` looks up the current language;
// the choice is remembered in localStorage. Category and state names live here too, so a
// page never spells one itself.
const STRINGS = {
  zh: {
    app: "河眼", subtitle: "河湖巡查", lang: "English", logout: "退出",
    "nav.flights": "航拍任务", "nav.review": "审核", "nav.map": "地图", "nav.tickets": "工单", "nav.chief": "我的工单",
    "nav.assessment": "考核", "login.title": "登录", "login.user": "用户名", "login.password": "密码",
    "login.submit": "登录", "login.failed": "登录失败",
    "flights.title": "航拍任务上传与处理", "flights.pick": "选择照片或 zip", "flights.name": "任务名称",
    "flights.upload": "上传", "flights.uploading": "上传中", "flights.done": "上传完成", "flights.duplicate": "这批照片已上传过",
    "flights.col.name": "名称", "flights.col.photos": "照片", "flights.col.by": "上传人", "flights.col.at": "时间",
    "flights.col.state": "处理状态", "flights.col.progress": "进度", "flights.none": "暂无航拍任务",
    "job.queued": "排队中", "job.running": "处理中", "job.done": "完成", "job.failed": "失败",
    "review.title": "待审核", "review.empty": "没有待审核的工单", "review.keys": "Y 确认 · N 驳回 · 1–7 误报原因 · Z 撤销 · ←/→ 上一条/下一条",
    "review.confirm": "确认 (Y)", "review.reject": "驳回 (N)", "review.prev": "上一条", "review.next": "下一条",
    "review.views": "同一目标的其他视角", "review.crop": "放大", "review.of": "/",
    "map.title": "工单地图", "map.legend": "图例", "map.filter.state": "状态", "map.filter.category": "类别",
    "map.all": "全部", "map.count": "条工单", "map.export": "导出当前筛选",
    "ticket.title": "工单", "ticket.category": "类别", "ticket.class": "检测类别", "ticket.state": "状态",
    "ticket.score": "置信度", "ticket.place": "位置", "ticket.segment": "河段", "ticket.chainage": "里程",
    "ticket.bank": "岸别", "ticket.error": "定位误差", "ticket.chief": "责任河长", "ticket.deadline": "整改期限",
    "ticket.rule": "规则", "ticket.evidence": "证据时间线", "ticket.audit": "操作记录", "ticket.actions": "操作",
    "ticket.comment": "备注", "ticket.rectify": "上报整改（附照片）", "ticket.rectify.photo": "整改照片",
    "ticket.rectify.submit": "提交整改", "ticket.overdue": "已超期", "ticket.flight": "航拍任务",
    "ticket.back": "返回",
    "ev.detection": "检测", "ev.seen_again": "再次发现", "ev.not_seen": "未再发现", "ev.rectification": "整改照片",
    "chief.title": "我负责的工单", "chief.none": "暂无工单",
    "assess.title": "考核统计", "assess.segment": "按河段", "assess.chief": "按河长", "assess.key": "河段/河长",
    "assess.found": "发现问题", "assess.resolved": "已销号", "assess.rate": "销号率", "assess.hours": "平均处理时长（小时）",
    "assess.overdue": "超期", "assess.open_overdue": "当前超期", "assess.from": "自", "assess.to": "至", "assess.apply": "查询",
    "assess.field": "统计日期依据", "assess.field.found_at": "发现时间", "assess.field.dispatched_at": "交办时间",
    "assess.field.closed_at": "销号时间", "assess.basis": "按{field}统计：{from} 至 {to}", "assess.any": "不限",
    "assess.seg": "河段", "assess.river": "河流", "assess.length": "长度（公里）", "assess.chief_name": "河长", "assess.level": "层级",
    "assess.dispatched": "已交办", "assess.due": "应整改", "assess.on_time": "按期整改", "assess.on_time_rate": "整改按期率",
    "assess.per_km": "每公里发现", "assess.per_flight": "每架次发现", "assess.flights": "航拍架次", "assess.total": "合计",
    "assess.noseg": "（无河段）", "assess.undispatched": "（未交办）", "assess.export": "导出 XLSX",
    "assess.chart.weekly": "每周发现与销号", "assess.chart.category": "各类别发现与销号", "assess.chart.overdue": "各河长超期情况",
    "assess.week": "周", "assess.found_series": "发现", "assess.closed_series": "销号",
    "assess.help": "发现问题：审核确认为问题的工单（不含待审核、已驳回）。销号率 = 已销号 ÷ 发现问题。整改按期率 = 按期整改 ÷ 应整改（已上报整改或已超期的已交办工单）。每公里发现 = 发现问题 ÷ 河段长度；每架次发现 = 航拍发现的问题 ÷ 期间上传的航拍架次。一张工单计入首次交办的河长；未交办的计入“未交办”行。",
    "review.undo": "撤销 (Z)", "review.undo.help": "撤销本人最近一次审核，工单回到待审核", "review.undone": "已撤销，回到待审核",
    "review.reason": "误报原因", "review.zoom": "点击查看原图", "review.zoom.title": "原图", "review.zoom.fit": "全图",
    "review.zoom.box": "定位目标", "review.zoom.close": "关闭",
    "reason.water_glint": "水面反光", "reason.vegetation": "水草/植被", "reason.shadow": "阴影", "reason.bank_object": "岸边物体",
    "reason.boat": "船只", "reason.duplicate": "重复", "reason.other": "其他", "act.undo": "撤销审核",
    "code.undo_nothing": "没有可撤销的审核（工单已有后续操作）", "code.undo_not_yours": "只能撤销本人的审核",
    "code.undo_not_last": "只能撤销本人最近一次审核", "code.unknown_reject_reason": "误报原因无效",
    "code.reason_only_reject": "只有驳回时才能选择误报原因",
    "to.confirmed": "确认", "to.rejected": "驳回", "to.dispatched": "交办", "to.rectified": "上报整改", "to.closed": "销号",
    "to.pending_review": "重新审核",
    "state.pending_review": "待审核", "state.confirmed": "待交办", "state.rejected": "已驳回", "state.dispatched": "整改中",
    "state.rectified": "待销号", "state.closed": "已销号",
    "cat.floating_debris": "漂浮物", "cat.illegal_mining": "乱采", "cat.illegal_dumping": "乱堆",
    "cat.illegal_construction": "乱建", "cat.outfall_discharge": "排口异常",
    "bank.left": "左岸", "bank.right": "右岸",
    "role.admin": "管理员", "role.reviewer": "审核员", "role.chief": "河长", "role.operator": "飞手", "role.viewer": "查看",
    "nav.ledger": "工单台账", "to.redispatch": "退回整改", "to.urge": "督办/催办",
    "ledger.title": "工单台账", "ledger.q.all": "全部", "ledger.q.pending_review": "待审核", "ledger.q.confirmed": "待交办",
    "ledger.q.dispatched": "整改中", "ledger.q.rectified": "待销号", "ledger.q.overdue": "已逾期",
    "ledger.f.segment": "河段", "ledger.f.chief": "责任河长", "ledger.f.flight": "航拍任务", "ledger.f.source": "来源", "ledger.f.device": "摄像头",
    "ledger.f.from": "发现日期自", "ledger.f.to": "至", "ledger.f.overdue": "仅逾期", "ledger.f.apply": "查询",
    "ledger.f.reset": "重置", "ledger.src.flight": "无人机航拍", "ledger.src.edge": "固定摄像头",
    "ledger.col.id": "工单编号", "ledger.col.found": "发现时间", "ledger.col.severity": "严重程度",
    "ledger.total": "共 {n} 条", "ledger.page": "第 {a}–{b} 条", "ledger.prev": "上一页", "ledger.next": "下一页",
    "ledger.none": "没有符合条件的工单", "ledger.selected": "已选 {n} 条", "ledger.batch": "批量交办", "ledger.all": "全选本页待交办工单",
    "ledger.batch.done": "已交办 {ok} 条，失败 {bad} 条", "ledger.export": "导出台账",
    "sev.low": "一般", "sev.medium": "较重", "sev.high": "严重",
    "level.village": "村级", "level.township": "乡镇级", "level.county": "县级",
    "jb.title": "交办工单", "jb.title.back": "退回整改", "jb.level": "河长层级", "jb.person": "责任河长",
    "jb.phone": "电话", "jb.deadline": "整改期限", "jb.rule_days": "按规则 {n} 天", "jb.note": "交办意见",
    "jb.submit": "确认交办", "jb.submit.back": "确认退回", "jb.cancel": "取消", "jb.nochief": "该层级未设河长",
    "jb.done": "已交办给 {name}", "urge.title": "督办/催办", "urge.note": "督办意见", "urge.submit": "发送督办",
    "urge.done": "已督办", "ticket.nofile": "请先选择整改照片", "flights.nofile": "请先选择要上传的照片或 zip",
    "audit.when": "时间", "audit.who": "操作人", "audit.what": "操作", "audit.note": "说明", "audit.system": "系统",
    "act.transition": "状态变更", "act.created": "生成工单", "act.overdue": "逾期", "act.escalate": "逾期升级督办",
    "act.urge": "督办/催办", "act.seen_again": "再次发现", "act.not_seen": "未再发现",
    "class.floating_debris": "漂浮物", "class.sand_dredger": "采砂船", "class.boat": "船只",
    "class.waste_pile": "垃圾/渣土堆", "class.structure": "建筑物", "class.dry_weather_discharge": "旱天排水",
    "class.abnormal_colour": "水色异常",
    "rule.boat-log": "船只记录", "rule.debris-on-water": "水面漂浮物", "rule.debris-on-bank": "岸边漂浮物",
    "rule.outside-zone": "管理范围外", "rule.mining-prohibited-area": "禁采区采砂",
    "rule.mining-closed-season": "禁采期采砂", "rule.mining-outside-permit": "超范围采砂",
    "rule.mining-permitted": "可采区采砂", "rule.dumping-in-zone": "管理范围内堆放",
    "rule.construction-unregistered": "未登记建筑", "rule.structure-registered": "已登记建筑",
    "rule.outfall-dry-weather": "排口旱天排水", "rule.outfall-abnormal-colour": "排口水色异常",
    "review.readonly": "当前角色只能查看，审核由审核员完成",
    "code.forbidden": "当前角色无权执行此操作", "code.transition_not_allowed": "工单当前状态不允许此操作，请刷新后重试",
    "code.no_chief": "该河段在所选层级没有河长，无法交办", "code.deadline_past": "整改期限必须晚于现在", "code.deadline_too_far": "整改期限不能超过一年",
    "code.dispatch_only": "只有交办时才能指定河长和期限", "code.photo_required": "上报整改需要附整改照片",
    "code.urge_not_dispatched": "只有整改中的工单可以督办", "code.no_ticket": "工单不存在或无权查看",
    "code.invalid_request": "请求内容有误，请检查填写的内容",
    "code.bad_login": "用户名或密码错误", "code.too_many_logins": "登录失败次数过多，请稍后再试",
    "err.network": "无法连接服务器", "loading": "加载中…",
    "err.generic": "操作失败", "err.403": "当前角色无权执行此操作", "err.413": "文件或请求过大，超出服务器限制",
    "err.415": "格式不受支持，请上传照片或 zip", "err.422": "文件无法使用（损坏、不是照片或压缩包不安全）",
    "err.429": "尝试次数过多，请稍后再试", "err.503": "服务器繁忙，请稍后重试",
    "err.507": "服务器磁盘已满，本次上传未保存，请联系管理员",
  },
  en: {
    app: "Heyan", subtitle: "River inspection", lang: "中文", logout: "Log out",
    "nav.flights": "Flights", "nav.review": "Review", "nav.map": "Map", "nav.tickets": "Tickets", "nav.chief": "My tickets",
    "nav.assessment": "Assessment", "login.title": "Log in", "login.user": "Username", "login.password": "Password",
    "login.submit": "Log in", "login.failed": "Login failed",
    "flights.title": "Flight upload and processing", "flights.pick": "Choose photos or a zip", "flights.name": "Flight name",
    "flights.upload": "Upload", "flights.uploading": "Uploading", "flights.done": "Uploaded", "flights.duplicate": "This flight was uploaded before",
    "flights.col.name": "Name", "flights.col.photos": "Photos", "flights.col.by": "Uploaded by", "flights.col.at": "Time",
    "flights.col.state": "Processing", "flights.col.progress": "Progress", "flights.none": "No flights yet",
    "job.queued": "queued", "job.running": "running", "job.done": "done", "job.failed": "failed",
    "review.title": "Review queue", "review.empty": "Nothing to review", "review.keys": "Y confirm · N reject · 1–7 reason · Z undo · ←/→ previous/next",
    "review.confirm": "Confirm (Y)", "review.reject": "Reject (N)", "review.prev": "Previous", "review.next": "Next",
    "review.views": "Other views of the same object", "review.crop": "Zoom", "review.of": "/",
    "map.title": "Ticket map", "map.legend": "Legend", "map.filter.state": "State", "map.filter.category": "Category",
    "map.all": "All", "map.count": "tickets", "map.export": "Export this filter",
    "ticket.title": "Ticket", "ticket.category": "Category", "ticket.class": "Detected class", "ticket.state": "State",
    "ticket.score": "Score", "ticket.place": "Place", "ticket.segment": "Segment", "ticket.chainage": "Chainage",
    "ticket.bank": "Bank", "ticket.error": "Position error", "ticket.chief": "Responsible chief", "ticket.deadline": "Deadline",
    "ticket.rule": "Rule", "ticket.evidence": "Evidence timeline", "ticket.audit": "Audit log", "ticket.actions": "Actions",
    "ticket.comment": "Comment", "ticket.rectify": "Report rectification (with a photo)", "ticket.rectify.photo": "Photo",
    "ticket.rectify.submit": "Submit rectification", "ticket.overdue": "overdue", "ticket.flight": "Flight",
    "ticket.back": "Back",
    "ev.detection": "Detection", "ev.seen_again": "Seen again", "ev.not_seen": "Not seen", "ev.rectification": "Rectification photo",
    "chief.title": "My tickets", "chief.none": "No tickets",
    "assess.title": "Assessment", "assess.segment": "By segment", "assess.chief": "By chief", "assess.key": "Segment / chief",
    "assess.found": "Found", "assess.resolved": "Closed", "assess.rate": "Resolution rate", "assess.hours": "Avg. handling (h)",
    "assess.overdue": "Overdue", "assess.open_overdue": "Overdue now", "assess.from": "From", "assess.to": "To", "assess.apply": "Apply",
    "assess.field": "Date of", "assess.field.found_at": "finding", "assess.field.dispatched_at": "assignment (交办)",
    "assess.field.closed_at": "closure (销号)", "assess.basis": "By date of {field}: {from} to {to}", "assess.any": "any",
    "assess.seg": "Segment", "assess.river": "River", "assess.length": "Length (km)", "assess.chief_name": "Chief", "assess.level": "Level",
    "assess.dispatched": "Assigned", "assess.due": "Due", "assess.on_time": "On time", "assess.on_time_rate": "On-time rectification",
    "assess.per_km": "Finds per km", "assess.per_flight": "Finds per flight", "assess.flights": "Flights", "assess.total": "Total",
    "assess.noseg": "(no segment)", "assess.undispatched": "(not yet assigned)", "assess.export": "Export XLSX",
    "assess.chart.weekly": "Finds and closures per week", "assess.chart.category": "Finds and closures per category",
    "assess.chart.overdue": "Overdue per chief", "assess.week": "Week", "assess.found_series": "found", "assess.closed_series": "closed",
    "assess.help": "Found: tickets a reviewer confirmed (not pending, not rejected). Closure rate = closed / found. On-time rectification = rectified on time / due (assigned tickets reported rectified or past their deadline). Finds per km = found / segment length; finds per flight = finds from flights / flights uploaded in the period. A ticket counts for the chief it was first assigned to; unassigned ones in their own row.",
    "review.undo": "Undo (Z)", "review.undo.help": "Take back your latest decision: the ticket returns to the queue", "review.undone": "undone, back in the queue",
    "review.reason": "False alarm", "review.zoom": "Click for the full photo", "review.zoom.title": "Photo", "review.zoom.fit": "Whole photo",
    "review.zoom.box": "On the box", "review.zoom.close": "Close",
    "reason.water_glint": "Glint on water", "reason.vegetation": "Weeds / vegetation", "reason.shadow": "Shadow",
    "reason.bank_object": "Object on the bank", "reason.boat": "Boat", "reason.duplicate": "Duplicate", "reason.other": "Other",
    "act.undo": "Decision undone",
    "code.undo_nothing": "Nothing to undo (something else happened to the ticket)", "code.undo_not_yours": "You can undo only your own decisions",
    "code.undo_not_last": "Only your latest decision can be undone", "code.unknown_reject_reason": "Unknown reject reason",
    "code.reason_only_reject": "A reason is only for a rejection",
    "to.confirmed": "Confirm", "to.rejected": "Reject", "to.dispatched": "Assign", "to.rectified": "Rectify", "to.closed": "Close",
    "to.pending_review": "Back to review",
    "state.pending_review": "Pending review", "state.confirmed": "Confirmed", "state.rejected": "Rejected",
    "state.dispatched": "Dispatched", "state.rectified": "Rectified", "state.closed": "Closed",
    "cat.floating_debris": "Floating debris", "cat.illegal_mining": "Illegal mining", "cat.illegal_dumping": "Dumping",
    "cat.illegal_construction": "Illegal construction", "cat.outfall_discharge": "Outfall discharge",
    "bank.left": "left bank", "bank.right": "right bank",
    "role.admin": "admin", "role.reviewer": "reviewer", "role.chief": "chief", "role.operator": "operator", "role.viewer": "viewer",
    "nav.ledger": "Ticket ledger", "to.redispatch": "Send back", "to.urge": "Urge / escalate",
    "ledger.title": "Ticket ledger", "ledger.q.all": "All", "ledger.q.pending_review": "To review", "ledger.q.confirmed": "To assign",
    "ledger.q.dispatched": "Being fixed", "ledger.q.rectified": "To close", "ledger.q.overdue": "Overdue",
    "ledger.f.segment": "Segment", "ledger.f.chief": "Responsible chief", "ledger.f.flight": "Flight", "ledger.f.source": "Source", "ledger.f.device": "Camera box",
    "ledger.f.from": "Found from", "ledger.f.to": "to", "ledger.f.overdue": "Overdue only", "ledger.f.apply": "Apply",
    "ledger.f.reset": "Reset", "ledger.src.flight": "Drone flight", "ledger.src.edge": "Fixed camera",
    "ledger.col.id": "Ticket", "ledger.col.found": "Found", "ledger.col.severity": "Severity",
    "ledger.total": "{n} tickets", "ledger.page": "{a}–{b}", "ledger.prev": "Previous", "ledger.next": "Next",
    "ledger.none": "No tickets match", "ledger.selected": "{n} selected", "ledger.batch": "Assign selected", "ledger.all": "Select this page's tickets to assign",
    "ledger.batch.done": "Assigned {ok}, failed {bad}", "ledger.export": "Export ledger",
    "sev.low": "low", "sev.medium": "medium", "sev.high": "high",
    "level.village": "village", "level.township": "township", "level.county": "county",
    "jb.title": "Assign ticket", "jb.title.back": "Send back for rectification", "jb.level": "Chief level", "jb.person": "Chief",
    "jb.phone": "Phone", "jb.deadline": "Deadline", "jb.rule_days": "rule: {n} days", "jb.note": "Note",
    "jb.submit": "Assign", "jb.submit.back": "Send back", "jb.cancel": "Cancel", "jb.nochief": "No chief at this level",
    "jb.done": "Assigned to {name}", "urge.title": "Urge / escalate", "urge.note": "Note", "urge.submit": "Send",
    "urge.done": "Urged", "ticket.nofile": "Choose a photo of the rectified site first", "flights.nofile": "Choose the photos or a zip to upload first",
    "audit.when": "Time", "audit.who": "By", "audit.what": "Action", "audit.note": "Note", "audit.system": "system",
    "act.transition": "State change", "act.created": "Created", "act.overdue": "Overdue", "act.escalate": "Escalated",
    "act.urge": "Urged", "act.seen_again": "Seen again", "act.not_seen": "Not seen",
    "review.readonly": "Your role can only look; reviewers decide",
    "code.forbidden": "Your role may not do this", "code.transition_not_allowed": "Not allowed in the ticket's current state; reload",
    "code.no_chief": "The segment has no chief at that level", "code.deadline_past": "The deadline must be in the future", "code.deadline_too_far": "The deadline may be at most a year away",
    "code.dispatch_only": "A chief and deadline are only for assigning", "code.photo_required": "Rectification needs a photo",
    "code.urge_not_dispatched": "Only a ticket being fixed can be urged", "code.no_ticket": "No such ticket",
    "code.invalid_request": "The request is not valid; check the form",
    "code.bad_login": "Wrong username or password", "code.too_many_logins": "Too many failed logins; try again later",
    "err.network": "Cannot reach the server", "loading": "Loading…",
    "err.generic": "Request failed", "err.403": "Your role may not do this", "err.413": "File or request too large for the server",
    "err.415": "Unsupported format: upload photos or a zip", "err.422": "The file cannot be used (damaged, not a photo, or an unsafe zip)",
    "err.429": "Too many attempts; try again later", "err.503": "The server is busy; try again shortly",
    "err.507": "The server's disk is full: nothing was stored; tell the administrator",
  },
};

// The phone pages (我的工单, 整改 with proof, 巡河): their strings, kept together.
Object.assign(STRINGS.zh, {
  "nav.patrol": "巡河", "chief.title": "我的工单",
  "task.left": "剩余 {n} 天", "task.today": "今日到期", "task.overdue": "已逾期 {n} 天", "task.sent_back": "退回整改：请重新整改",
  "task.note": "交办意见", "task.rectify": "去整改", "task.navigate": "导航", "task.detail": "详情",
  "task.summary": "共 {n} 条待整改，{late} 条已逾期",
  "datum.title": "坐标系", "datum.gcj02": "GCJ-02（高德/腾讯地图）", "datum.wgs84": "WGS-84（GPS）",
  "rectify.take": "拍摄整改照片", "rectify.comment": "整改说明（选填）", "rectify.problem": "问题位置与原始照片",
  "rectify.reason": "情况说明", "rectify.reason.hint": "照片无法通过核验的原因，审核员可见",
  "rectify.reason.ask": "请现场重新拍摄；如确有原因，请填写情况说明后再次提交，审核员将看到说明。",
  "rectify.not_now": "该工单当前不在整改中，无需上报整改。",
  "proof.before_dispatch": "照片拍摄于 {taken}，早于交办时间 {dispatched}，不能证明已整改",
  "proof.in_future": "照片拍摄时间 {taken} 晚于当前时间，请检查手机时间设置",
  "proof.too_far": "照片拍摄地点距问题位置约 {d} 米，超过允许的 {max} 米",
  "proof.no_time": "照片没有拍摄时间信息（可能被应用去除），请用手机相机现场拍摄",
  "proof.no_position": "照片没有位置信息，请在相机设置中打开位置（GPS）记录后重拍",
  "proof.unknown": "照片未通过核验",
  "proof.ok": "照片时间晚于交办，拍摄地点距问题约 {d} 米，核验通过", "proof.ok.nodist": "照片核验通过",
  "code.proof_failed": "整改照片未通过时间/位置核验",
  "ba.title": "整改前后对比", "ba.before": "整改前", "ba.after": "整改后",
  "patrol.title": "巡河", "patrol.start": "开始巡河", "patrol.stop": "结束巡河",
  "patrol.live": "巡河中：已记录 {n} 个定位点 · 用时 {time} · 约 {km} km",
  "patrol.queued": "{n} 条巡河记录待上传（网络恢复后自动上传）", "patrol.sent": "已上传 {n} 条巡河记录",
  "patrol.mine": "我的巡河记录", "patrol.none": "暂无巡河记录", "patrol.length": "里程", "patrol.duration": "用时",
  "patrol.coverage": "河段覆盖率", "patrol.nogps": "无法获取定位，请允许浏览器使用位置信息",
  "patrol.nosegment": "没有可巡河的河段",
  "patrol.flag.too_fast": "速度异常（超过步行或船速）", "patrol.flag.jump": "轨迹跳变", "patrol.flag.never_near_river": "轨迹未到达河道",
  "patrol.flag.too_few_points": "定位点过少",
  "code.not_your_segment": "该河段不在您的责任范围内", "code.no_segment": "河段不存在", "code.no_network": "尚未导入河流数据",
  "code.patrol_id_taken": "巡河记录编号冲突",
  "nav.report": "问题上报", "report.title": "问题上报", "report.take": "拍摄问题照片", "report.note": "问题描述（选填）",
  "report.submit": "上报", "report.locating": "正在获取位置…", "report.nogps": "无法获取手机位置，将使用照片中的位置信息",
  "report.at": "位置：{lat}, {lon}（精度约 {acc} 米）", "report.detecting": "正在识别照片…",
  "report.nothing": "未识别出问题类别，请手动选择", "report.suggested": "识别结果：{what}（置信度 {p}%），可修改类别",
  "report.nofile": "请先拍摄问题照片", "report.outcome.ticket": "已上报，生成待审核工单。",
  "report.outcome.seen_again": "该问题已有工单，本次上报已并入该工单。",
  "code.report_no_ticket": "该位置或类别按规则不生成工单（可能不在河道管理范围内）",
  "code.report_no_position": "没有位置信息：请允许定位，或使用带位置信息的照片",
  "code.report_no_class": "未识别出问题类别，请选择类别", "code.report_bad_class": "问题类别无效",
  "code.not_a_photo": "文件不是照片", "code.photo_empty": "照片为空",
  "public.title": "公众举报", "public.intro": "发现河湖乱占、乱采、乱堆、乱建或水面漂浮垃圾？拍照举报，河长办将核实处理。",
  "public.kind.auto": "不确定（自动识别）", "public.text.label": "问题描述", "public.text": "简要描述问题（选填，500 字以内）",
  "public.phone": "联系电话（选填）", "public.phone.note": "仅用于河长办回访，不会公开", "public.submit": "提交举报",
  "public.done.ticket": "已收到您的举报（编号 {id}），河长办将尽快核实。",
  "public.done.seen_again": "已收到您的举报（编号 {id}），该问题已在处理中。",
  "code.public_rate_limited": "今日举报次数已达上限，请明天再试", "code.public_bad_type": "请上传 JPG、PNG 或 WebP 格式的照片",
  "code.public_too_large": "照片过大，请压缩后再试", "code.public_bad_phone": "联系电话格式不正确",
  "code.public_closed": "本平台暂未开放公众举报",
  "ledger.src.report": "问题上报", "ledger.src.public": "公众举报",
  "nav.river": "一河一档", "river.title": "一河一档", "river.none": "暂无河流数据", "river.all": "全部河段",
  "river.basic": "河段概况", "river.length": "河段长度 {km}", "river.chiefs": "河长及联系方式", "river.level": "层级",
  "river.name": "姓名", "river.dept": "单位", "river.zone.management": "河道管理范围", "river.zone.water": "水域", "river.ha": "公顷",
  "river.src.polygon": "按划界范围", "river.src.buffer": "按缓冲距离推算", "river.tickets": "问题工单",
  "river.legend": "柱状图：每月发现（深色）与销号（浅色）", "river.patrols": "巡河 {n} 次，里程 {km} km，平均覆盖率 {cov}；异常轨迹 {bad} 次",
  "river.flags": "异常", "river.flights": "航拍任务（在本河段有检测）", "river.detections": "检测数",
  "river.outfalls": "排口（一口一档）", "river.outfall": "排口", "river.otype": "类型", "river.otype.rain": "雨水口",
  "river.otype.sewage": "污水口", "river.otype.mixed": "合流口", "river.cameras": "监控摄像头", "river.events": "排水/水色事件",
  "river.last": "最近巡查", "river.open": "未办结工单",
});
Object.assign(STRINGS.en, {
  "nav.patrol": "Patrol", "chief.title": "My tasks",
  "task.left": "{n} days left", "task.today": "Due today", "task.overdue": "{n} days overdue", "task.sent_back": "Sent back: rectify again",
  "task.note": "Assignment note", "task.rectify": "Rectify", "task.navigate": "Navigate", "task.detail": "Details",
  "task.summary": "{n} to rectify, {late} overdue",
  "datum.title": "Datum", "datum.gcj02": "GCJ-02 (AMap/Tencent)", "datum.wgs84": "WGS-84 (GPS)",
  "rectify.take": "Take a photo of the rectified site", "rectify.comment": "Note (optional)", "rectify.problem": "The problem",
  "rectify.reason": "Reason", "rectify.reason.hint": "Why the photo fails the check; the reviewer sees it",
  "rectify.reason.ask": "Take a new photo on site; if there is a reason, write it and submit again: the reviewer will see it.",
  "rectify.not_now": "This ticket is not being rectified now.",
  "proof.before_dispatch": "The photo was taken at {taken}, before the ticket was assigned at {dispatched}",
  "proof.in_future": "The photo's time {taken} is in the future: check the phone's clock",
  "proof.too_far": "The photo was taken about {d} m from the problem; at most {max} m allowed",
  "proof.no_time": "The photo has no capture time (an app removed it?): take it with the phone's camera on site",
  "proof.no_position": "The photo has no position: turn on location in the camera settings and take it again",
  "proof.unknown": "The photo failed the check",
  "proof.ok": "Taken after the assignment, about {d} m from the problem: check passed", "proof.ok.nodist": "Check passed",
  "code.proof_failed": "The rectification photo failed the time/place check",
  "ba.title": "Before and after", "ba.before": "Before", "ba.after": "After",
  "patrol.title": "Patrol", "patrol.start": "Start patrol", "patrol.stop": "Finish patrol",
  "patrol.live": "Patrolling: {n} fixes · {time} · about {km} km",
  "patrol.queued": "{n} patrol(s) waiting to upload (sent when back online)", "patrol.sent": "Uploaded {n} patrol(s)",
  "patrol.mine": "My patrols", "patrol.none": "No patrols yet", "patrol.length": "Distance", "patrol.duration": "Duration",
  "patrol.coverage": "Segment coverage", "patrol.nogps": "No position: allow the browser to use your location",
  "patrol.nosegment": "No segment to patrol",
  "patrol.flag.too_fast": "Implausible speed", "patrol.flag.jump": "Track jumps", "patrol.flag.never_near_river": "Never near the river",
  "patrol.flag.too_few_points": "Too few fixes",
  "code.not_your_segment": "This segment is not yours", "code.no_segment": "No such segment", "code.no_network": "No river network yet",
  "code.patrol_id_taken": "Patrol id conflict",
  "nav.report": "Report", "report.title": "Report a problem", "report.take": "Take a photo of the problem", "report.note": "Description (optional)",
  "report.submit": "Report", "report.locating": "Getting your position…", "report.nogps": "No position from the phone: the photo's own will be used",
  "report.at": "Position: {lat}, {lon} (±{acc} m)", "report.detecting": "Looking at the photo…",
  "report.nothing": "Nothing recognised: choose the category", "report.suggested": "Recognised: {what} ({p}%); change it if wrong",
  "report.nofile": "Take a photo of the problem first", "report.outcome.ticket": "Reported: a ticket waits for review.",
  "report.outcome.seen_again": "This problem already has a ticket: the report was added to it.",
  "code.report_no_ticket": "By the rules this place or category makes no ticket (outside the river zone?)",
  "code.report_no_position": "No position: allow location, or use a photo with GPS",
  "code.report_no_class": "Nothing recognised: choose the category", "code.report_bad_class": "Unknown category",
  "code.not_a_photo": "The file is not a photo", "code.photo_empty": "The photo is empty",
  "public.title": "Report a river problem", "public.intro": "Seen dumping, sand mining, illegal building or floating rubbish? Send a photo; the river-chief office will check it.",
  "public.kind.auto": "Not sure (recognise it)", "public.text.label": "What is wrong", "public.text": "A few words (optional, up to 500)",
  "public.phone": "Phone (optional)", "public.phone.note": "Only for the office to call back; never shown publicly", "public.submit": "Send report",
  "public.done.ticket": "Thank you: report {id} received; the office will check it.",
  "public.done.seen_again": "Thank you: report {id} received; this problem is already being handled.",
  "code.public_rate_limited": "Too many reports from here today; try again tomorrow", "code.public_bad_type": "Send a JPEG, PNG or WebP photo",
  "code.public_too_large": "The photo is too large", "code.public_bad_phone": "The phone number is not valid",
  "code.public_closed": "Public reports are closed here",
  "ledger.src.report": "Reported by staff", "ledger.src.public": "Public report",
  "nav.river": "River archive", "river.title": "River archive", "river.none": "No river network yet", "river.all": "All segments",
  "river.basic": "Segment", "river.length": "Length {km}", "river.chiefs": "Chiefs and contacts", "river.level": "Level",
  "river.name": "Name", "river.dept": "Department", "river.zone.management": "Management zone", "river.zone.water": "Water", "river.ha": "ha",
  "river.src.polygon": "drawn boundary", "river.src.buffer": "from the buffer distance", "river.tickets": "Tickets",
  "river.legend": "Bars: found (dark) and closed (light) per month", "river.patrols": "{n} patrols, {km} km, mean coverage {cov}; {bad} flagged",
  "river.flags": "Flags", "river.flights": "Flights with detections here", "river.detections": "Detections",
  "river.outfalls": "Outfalls", "river.outfall": "Outfall", "river.otype": "Type", "river.otype.rain": "rain",
  "river.otype.sewage": "sewage", "river.otype.mixed": "combined", "river.cameras": "Cameras", "river.events": "Discharge/colour events",
  "river.last": "Last inspection", "river.open": "Open tickets",
});

export const STATES = ["pending_review", "confirmed", "rejected", "dispatched", "rectified", "closed"];
export const STATE_COLOURS = {
  pending_review: "#f0a020", confirmed: "#d04040", rejected: "#909090", dispatched: "#c03090",
  rectified: "#3080d0", closed: "#30a050",
};

let lang = localStorage.getItem("heyan.lang") || "zh";

export function getLang() { return lang; }

export function setLang(l) {
  lang = l in STRINGS ? l : "zh";
  localStorage.setItem("heyan.lang", lang);
  document.documentElement.lang = lang === "zh" ? "zh-CN" : "en";
}

export function t(key) {
  return STRINGS[lang][key] ?? STRINGS.zh[key] ?? key;
}

// A category from the server: our label if we know the id, else the server's Chinese name.
export function category(id, zh) {
  const k = `cat.${id}`;
  const s = t(k);
  return s === k ? (zh || id || "—") : s;
}

export function stateName(s) { return t(`state.${s}`); }

// `tf("ledger.total", {n: 3})`: a string with {name} slots.
export function tf(key, vars) {
  return t(key).replace(/\{(\w+)\}/g, (_, k) => String(vars?.[k] ?? ""));
}

// An identifier from the server shown by its name: our label if we have one, else the
// fallback the server gave (its Chinese name), never the bare id in the Chinese UI.
function named(prefix, id, fallback) {
  if (!id) return "—";
  const k = `${prefix}.${id}`;
  const s = t(k);
  return s !== k ? s : (fallback || id);
}
export const className = (id) => named("class", id);
export const ruleName = (id) => named("rule", id);
export const levelName = (id) => named("level", id);
export const severityName = (id) => named("sev", id);
export const actionName = (id) => named("act", id);

// An API error for the user: Chinese first (the server's own messages are English), the
// server's detail added only in English; network failures and unknown codes too.
export function errorText(e) {
  const code = e?.body?.code;
  if (code && `code.${code}` in STRINGS.zh) return lang === "zh" ? t(`code.${code}`) : `${t(`code.${code}`)}: ${e.message}`;
  const status = e && e.status;
  const key = status === 0 ? "err.network" : `err.${status}`;
  const known = key in STRINGS[lang];
  if (lang === "zh") return known ? t(key) : `${t("err.generic")}（HTTP ${status}）`;
  return known && e.message ? `${t(key)}: ${e.message}` : (e && e.message) || t("err.generic");
}

export function fmtTime(iso) {
  if (!iso) return "—";
  const d = new Date(iso);
  return d.toLocaleString(lang === "zh" ? "zh-CN" : "en-GB", { hour12: false });
}
