// Every string the viewer shows, Chinese first. `t(key)` looks up the current language;
// the choice is remembered in localStorage. Category and state names live here too, so a
// page never spells one itself.
const STRINGS = {
  zh: {
    app: "河眼", subtitle: "河湖巡查", lang: "English", logout: "退出",
    "nav.flights": "航线", "nav.review": "审核", "nav.map": "地图", "nav.tickets": "工单", "nav.chief": "我的工单",
    "nav.assessment": "考核", "login.title": "登录", "login.user": "用户名", "login.password": "密码",
    "login.submit": "登录", "login.failed": "登录失败",
    "flights.title": "航线上传与处理", "flights.pick": "选择照片或 zip", "flights.name": "航线名称",
    "flights.upload": "上传", "flights.uploading": "上传中", "flights.done": "上传完成", "flights.duplicate": "该航线已上传过",
    "flights.col.name": "名称", "flights.col.photos": "照片", "flights.col.by": "上传人", "flights.col.at": "时间",
    "flights.col.state": "处理状态", "flights.col.progress": "进度", "flights.none": "暂无航线",
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
    "ticket.rectify.submit": "提交整改", "ticket.overdue": "已超期", "ticket.flight": "航线",
    "ticket.back": "返回",
    "ev.detection": "检测", "ev.seen_again": "再次发现", "ev.not_seen": "未再发现", "ev.rectification": "整改照片",
    "chief.title": "我负责的工单", "chief.none": "暂无工单",
    "assess.title": "考核统计", "assess.segment": "按河段", "assess.chief": "按河长", "assess.key": "河段/河长",
    "assess.found": "发现问题", "assess.resolved": "已销号", "assess.rate": "销号率", "assess.hours": "平均处理时长（小时）",
    "assess.overdue": "超期", "assess.open_overdue": "当前超期", "assess.from": "自", "assess.to": "至", "assess.apply": "查询",
    "to.confirmed": "确认", "to.rejected": "驳回", "to.dispatched": "派发", "to.rectified": "整改", "to.closed": "销号",
    "to.pending_review": "重新审核",
    "state.pending_review": "待审核", "state.confirmed": "已确认", "state.rejected": "已驳回", "state.dispatched": "已派发",
    "state.rectified": "已整改", "state.closed": "已销号",
    "cat.floating_debris": "漂浮物", "cat.illegal_mining": "乱采", "cat.illegal_dumping": "乱堆",
    "cat.illegal_construction": "乱建", "cat.outfall_discharge": "排口异常",
    "bank.left": "左岸", "bank.right": "右岸",
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
    "to.confirmed": "Confirm", "to.rejected": "Reject", "to.dispatched": "Dispatch", "to.rectified": "Rectify", "to.closed": "Close",
    "to.pending_review": "Back to review",
    "state.pending_review": "Pending review", "state.confirmed": "Confirmed", "state.rejected": "Rejected",
    "state.dispatched": "Dispatched", "state.rectified": "Rectified", "state.closed": "Closed",
    "cat.floating_debris": "Floating debris", "cat.illegal_mining": "Illegal mining", "cat.illegal_dumping": "Dumping",
    "cat.illegal_construction": "Illegal construction", "cat.outfall_discharge": "Outfall discharge",
    "bank.left": "left bank", "bank.right": "right bank",
    "err.network": "Cannot reach the server", "loading": "Loading…",
    "err.generic": "Request failed", "err.403": "Your role may not do this", "err.413": "File or request too large for the server",
    "err.415": "Unsupported format: upload photos or a zip", "err.422": "The file cannot be used (damaged, not a photo, or an unsafe zip)",
    "err.429": "Too many attempts; try again later", "err.503": "The server is busy; try again shortly",
    "err.507": "The server's disk is full: nothing was stored; tell the administrator",
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

// An API error for the user: Chinese first (the server's own messages are English), the
// server's detail added only in English; network failures and unknown codes too.
export function errorText(e) {
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
