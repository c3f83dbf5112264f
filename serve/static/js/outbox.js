// The phone's patrol store (IndexedDB): the patrol being recorded survives a reload or a
// dead battery, and finished patrols wait here until the server has them (offline on the
// river bank is normal). One record per patrol: {id, segment_id, points, note, state,
// user}; state "recording" or "queued".
const DB = "heyan-phone";
const STORE = "patrols";

function open() {
  return new Promise((resolve, reject) => {
    const req = indexedDB.open(DB, 1);
    req.onupgradeneeded = () => req.result.createObjectStore(STORE, { keyPath: "id" });
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

async function tx(mode, fn) {
  const db = await open();
  return new Promise((resolve, reject) => {
    const x = db.transaction(STORE, mode);
    const out = fn(x.objectStore(STORE));
    x.oncomplete = () => { db.close(); resolve(out && "result" in out ? out.result : undefined); };
    x.onerror = () => { db.close(); reject(x.error); };
  });
}

export const putPatrol = (rec) => tx("readwrite", (s) => s.put(rec));
export const deletePatrol = (id) => tx("readwrite", (s) => s.delete(id));
export const allPatrols = () => tx("readonly", (s) => s.getAll());
