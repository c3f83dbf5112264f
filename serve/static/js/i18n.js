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
    "review.title": "待审核", "review.empty": "没有待审核的工单", "review.keys": "Y 确认 · N 驳回 · ←/→ 上一条/下一条",
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
    // 标注 (pages/label.js)
    "nav.label": "标注", "role.trainer": "模型训练员", "ticket.model": "检测模型",
    "label.title": "标注", "label.queue": "待标注", "label.start": "开始标注",
    "label.keys": "拖动画框 · 1–5 类别 · Del 删除 · Tab 切换 · F 已完整标注 · S 保存 · →/← 下一帧/上一帧 · 滚轮缩放 · 右键/空格拖动平移 · 0 适应窗口",
    "label.save": "保存 (S)", "label.delete": "删除框 (Del)", "label.next": "下一帧 (→)", "label.mark_complete": "标记已完整标注",
    "label.complete": "已完整标注", "label.boxes": "标注框", "label.versions": "历史版本", "label.n": "个框",
    "label.unsaved": "未保存", "label.dirty": "有改动未保存", "label.saved": "已保存", "label.saved_tickets": "已保存，{n} 条工单的类别已随之更改",
    "label.ticket": "工单", "label.readonly": "当前角色只能查看标注", "label.queue_end": "待标注队列已到头",
    "label.queue_empty": "暂无待标注的照片", "label.queue_help": "按教给模型最多的顺序排列：低置信度检测多的照片、已确认问题附近的照片、尚无标注的摄像头和河段，另有约 {p}% 随机抽取，使评估数字不偏。",
    "label.why.uncertain": "低置信度检测多", "label.why.near_find": "已确认问题附近", "label.why.new_source": "该点位尚无标注",
    "label.why.random": "随机抽样", "label.open": "标注此照片", "act.relabel": "修改类别",
    "code.label_conflict": "他人已保存了新版本，请刷新后再改", "code.bad_box": "标注框超出照片或没有面积",
    "code.unknown_class": "类别不存在", "code.too_many_boxes": "一张照片的标注框过多",
    "code.label_ticket_not_on_frame": "该工单不在这张照片上", "code.no_frame": "照片不存在或无权查看",
    "code.frame_unreadable": "照片无法解码", "code.no_label_version": "没有这个标注版本",
    "nav.models": "模型", "models.title": "检测模型与现场适配", "models.in_force": "当前使用模型：", "models.site_model": "（现场适配模型）",
    "models.configured": "配置的默认模型", "models.rollback": "回退", "models.rolled_back": "已回退到上一个模型",
    "models.action.activate": "启用", "models.action.rollback": "回退", "models.frames": "张已完整标注",
    "models.new_job": "新建适配训练", "models.scope": "用哪里的标注", "models.minutes": "训练时长上限（分钟）", "models.start": "开始训练",
    "models.started": "训练任务已排队", "models.no_labels": "还没有已完整标注的照片，请先在「标注」页标注",
    "models.jobs": "训练任务", "models.no_jobs": "暂无训练任务", "models.base": "基础模型", "models.budget": "时长上限", "models.min": "分钟",
    "models.stage.preparing": "准备数据", "models.stage.training": "训练中", "models.stage.evaluating": "评估中", "models.stage.storing": "保存模型",
    "models.failed": "训练失败：", "models.failed_hint": "常见原因是已完整标注的照片太少（至少 2 张），详情见鼠标悬停提示或服务器日志", "models.summary": "训练 {train} 张、留出评估 {hold} 张（从未参与训练），{chips} 个切片，用时 {min} 分钟",
    "models.class": "类别", "models.instances": "目标数", "models.base_ap": "原模型 AP50", "models.new_ap": "新模型 AP50",
    "models.base_rec": "原模型召回率", "models.new_rec": "新模型召回率", "models.all_classes": "全部（mAP50）",
    "models.better": "新模型在留出照片上更好", "models.not_better": "新模型在留出照片上没有更好，不建议启用",
    "models.activate": "启用此模型", "models.activated": "已启用，新上传的航拍任务将用此模型处理", "models.now_in_force": "✓ 当前使用中",
    "models.boxes": "摄像头盒子使用的模型", "models.box": "盒子", "models.box_own": "本机配置的模型", "models.scope.device": "摄像头盒子",
    "code.no_device": "没有这个摄像头盒子",
    "models.scope.all": "全部点位", "models.scope.camera": "摄像头", "models.scope.flight": "航拍任务", "models.scope.segment": "河段",
    "code.no_model": "模型不存在", "code.no_job": "训练任务不存在", "code.scope_not_supported": "目前只能为全部点位切换模型",
    "code.nothing_to_roll_back": "当前已是配置的默认模型，无可回退",
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
    "review.title": "Review queue", "review.empty": "Nothing to review", "review.keys": "Y confirm · N reject · ←/→ previous/next",
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
    "nav.label": "Label", "role.trainer": "model trainer", "ticket.model": "Detector",
    "label.title": "Label", "label.queue": "Frames to label", "label.start": "Start labelling",
    "label.keys": "drag to draw · 1–5 class · Del delete · Tab next box · F fully labelled · S save · →/← next/previous frame · wheel zoom · right-drag/space pan · 0 fit",
    "label.save": "Save (S)", "label.delete": "Delete box (Del)", "label.next": "Next frame (→)", "label.mark_complete": "Mark fully labelled",
    "label.complete": "fully labelled", "label.boxes": "Boxes", "label.versions": "Versions", "label.n": "boxes",
    "label.unsaved": "not saved", "label.dirty": "unsaved changes", "label.saved": "Saved", "label.saved_tickets": "Saved; the class of {n} ticket(s) followed",
    "label.ticket": "ticket", "label.readonly": "Your role may only look at labels", "label.queue_end": "End of the queue",
    "label.queue_empty": "No frames to label", "label.queue_help": "In the order that teaches the model most: frames with many low-score detections, frames near confirmed finds, cameras and segments with no labels yet, and about {p}% drawn at random so the figures stay honest.",
    "label.why.uncertain": "many low scores", "label.why.near_find": "near a confirmed find", "label.why.new_source": "no labels at this site yet",
    "label.why.random": "random sample", "label.open": "Label this photo", "act.relabel": "class changed",
    "code.label_conflict": "Someone saved a newer version; reload first", "code.bad_box": "A box lies outside the photo or has no area",
    "code.unknown_class": "Unknown class", "code.too_many_boxes": "Too many boxes in one frame",
    "code.label_ticket_not_on_frame": "That ticket is not on this photo", "code.no_frame": "No such photo, or you may not see it",
    "code.frame_unreadable": "The photo cannot be decoded", "code.no_label_version": "No such label version",
    "nav.models": "Models", "models.title": "Detectors and site adaptation", "models.in_force": "Model in use:", "models.site_model": "(site-adapted model)",
    "models.configured": "the configured model", "models.rollback": "Roll back", "models.rolled_back": "Rolled back to the previous model",
    "models.action.activate": "switched on", "models.action.rollback": "rolled back", "models.frames": "fully labelled",
    "models.new_job": "New adaptation job", "models.scope": "Labels of", "models.minutes": "Time budget (minutes)", "models.start": "Start training",
    "models.started": "Training job queued", "models.no_labels": "No fully labelled frames yet: label some on the Label page first",
    "models.jobs": "Training jobs", "models.no_jobs": "No training jobs", "models.base": "base", "models.budget": "budget", "models.min": "min",
    "models.stage.preparing": "preparing data", "models.stage.training": "training", "models.stage.evaluating": "evaluating", "models.stage.storing": "storing the model",
    "models.failed": "Training failed:", "models.failed_hint": "", "models.summary": "trained on {train} frames, judged on {hold} held-back frames (never trained on), {chips} chips, {min} min",
    "models.class": "Class", "models.instances": "Objects", "models.base_ap": "Base AP50", "models.new_ap": "New AP50",
    "models.base_rec": "Base recall", "models.new_rec": "New recall", "models.all_classes": "All (mAP50)",
    "models.better": "The new model is better on the held-back frames", "models.not_better": "The new model is not better on the held-back frames: not advised",
    "models.activate": "Use this model", "models.activated": "Switched on: new flights are processed with it", "models.now_in_force": "✓ in use",
    "models.boxes": "Models of the edge boxes", "models.box": "Box", "models.box_own": "its own configured model", "models.scope.device": "edge box",
    "code.no_device": "No such edge box",
    "models.scope.all": "all sites", "models.scope.camera": "camera", "models.scope.flight": "flight", "models.scope.segment": "segment",
    "code.no_model": "No such model", "code.no_job": "No such training job", "code.scope_not_supported": "Only the model for all sites can be switched so far",
    "code.nothing_to_roll_back": "The configured model is in use: nothing to roll back",
  },
};

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
