//! The link between the front and the wrapper's workers: long-lived connections to the workers'
//! shared Unix socket, each carrying many calls at once as length-prefixed frames. Frames are
//! written by one task per connection, which writes whatever calls are waiting in one system
//! call, and answers are matched to calls by id, in whatever order they come.
//!
//! ```text
//! frame  = length u32 | id u32 | kind u8 | payload   (big-endian; length counts id, kind and payload)
//! 'h' hello     worker -> front  pid u32: the first frame on a connection
//! 'd' describe  front -> worker  (empty): answered with the descriptors of the served protos
//! 'c' call      front -> worker  method_len u8 | method | n u8 | n x (name_len u8 | name | value_len u16 | value) | message
//! 'r' answer    worker -> front  code u8 | the reply message, or an error message when code is not OK
//! 'g' goodbye   worker -> front  (empty): the worker is stopping; no new call on this connection,
//!                                which the front closes once its calls are answered
//! ```
//!
//! A worker answers the calls of one connection in order, one at a time; with several workers,
//! each call goes to the worker with the fewest calls in progress. A message over
//! `LARGE_MESSAGE` bytes is sent on a connection of its own, so that its transfer never queues
//! the small calls of the others behind it.

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicI32, AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use tokio::io::{AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::unix::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::UnixStream;
use tokio::sync::{mpsc, oneshot, watch};
use tonic::{Code, Status};

const KIND_HELLO: u8 = b'h';
const KIND_DESCRIBE: u8 = b'd';
const KIND_CALL: u8 = b'c';
const KIND_ANSWER: u8 = b'r';
const KIND_GOODBYE: u8 = b'g';

const FRAME_HEAD: usize = 9; // length, id, kind
const LARGE_MESSAGE: usize = 256 << 10;
/// Connections per worker the front opens at most while looking for workers it has no
/// connection to yet (they take connections from the shared socket as they come).
const CONNECTIONS_PER_WORKER: usize = 4;
const HELLO_TIMEOUT: Duration = Duration::from_secs(10);
const WORKER_GONE: &str = "the model worker closed the connection";

/// What a call gets back: the worker's status code and payload, or why the connection ended.
type Answer = Result<(u8, Bytes), String>;

/// A metadata entry passed on to the worker (the trace context).
pub struct Header {
    pub name: String,
    pub value: String,
}

/// One connection to one worker.
struct WorkerConn {
    pid: u32,
    frames: mpsc::UnboundedSender<Vec<u8>>,
    pending: Mutex<HashMap<u32, oneshot::Sender<Answer>>>,
    inflight: AtomicI32,
    draining: AtomicBool, // the worker said goodbye
    closed: watch::Sender<bool>,
}

impl WorkerConn {
    fn is_closed(&self) -> bool {
        *self.closed.borrow()
    }

    /// Ends the connection (its reader and writer stop, which closes the socket); calls still
    /// waiting on it fail with `cause`.
    fn close(&self, cause: &str) {
        let mut pending = self.pending.lock().unwrap();
        if self.closed.send_replace(true) {
            return;
        }
        for (_, waiting) in pending.drain() {
            let _ = waiting.send(Err(cause.to_string()));
        }
    }

    /// Queues one frame; its answer comes on the returned channel.
    fn send(&self, id: u32, frame: Vec<u8>) -> Result<oneshot::Receiver<Answer>, String> {
        let (answer, waiting) = oneshot::channel();
        {
            let mut pending = self.pending.lock().unwrap();
            if self.is_closed() {
                return Err(WORKER_GONE.to_string());
            }
            pending.insert(id, answer);
            self.inflight.fetch_add(1, Ordering::SeqCst);
        }
        // A writer that has stopped has closed the connection, which answered the call.
        let _ = self.frames.send(frame);
        Ok(waiting)
    }

    /// Writes the frames waiting on the connection, all that are waiting at once.
    async fn write(self: Arc<Self>, mut socket: OwnedWriteHalf, mut frames: mpsc::UnboundedReceiver<Vec<u8>>) {
        let closed = until_closed(self.closed.subscribe());
        tokio::pin!(closed);
        let mut out = Vec::with_capacity(64 << 10);
        loop {
            tokio::select! {
                frame = frames.recv() => {
                    let Some(frame) = frame else { return };
                    // Let the calls that arrived with this one queue theirs first: they then go
                    // in one write, and the worker, woken once, answers them together.
                    tokio::task::yield_now().await;
                    out.clear();
                    out.extend_from_slice(&frame);
                    while let Ok(more) = frames.try_recv() {
                        out.extend_from_slice(&more);
                    }
                    if let Err(err) = socket.write_all(&out).await {
                        self.close(&err.to_string());
                        return;
                    }
                    if out.capacity() > 1 << 20 {
                        out = Vec::with_capacity(64 << 10); // a large message's room is not kept
                    }
                }
                _ = &mut closed => return,
            }
        }
    }

    /// Hands each answer to its call, until the connection ends.
    async fn read(self: Arc<Self>, mut reader: BufReader<OwnedReadHalf>, max_bytes: usize, link: Arc<Link>) {
        let closed = until_closed(self.closed.subscribe());
        tokio::pin!(closed);
        let cause = loop {
            let frame = tokio::select! {
                frame = read_frame(&mut reader, max_bytes) => frame,
                _ = &mut closed => break WORKER_GONE.to_string(),
            };
            let (kind, id, payload) = match frame {
                Ok(frame) => frame,
                Err(err) => break err,
            };
            match kind {
                KIND_ANSWER if !payload.is_empty() => {
                    let waiting = self.pending.lock().unwrap().remove(&id);
                    if let Some(waiting) = waiting {
                        let _ = waiting.send(Ok((payload[0], payload.slice(1..))));
                    }
                    if self.inflight.fetch_sub(1, Ordering::SeqCst) == 1 && self.draining.load(Ordering::SeqCst) {
                        break WORKER_GONE.to_string();
                    }
                }
                KIND_ANSWER => break "an empty answer".to_string(),
                KIND_GOODBYE => {
                    self.draining.store(true, Ordering::SeqCst);
                    link.forget(&self); // no new calls here
                    if self.inflight.load(Ordering::SeqCst) == 0 {
                        break WORKER_GONE.to_string();
                    }
                }
                other => break format!("unexpected frame {:?}", other as char),
            }
        };
        self.close(&cause);
        link.forget(&self);
    }
}

/// Resolves once the connection is closed.
async fn until_closed(mut closed: watch::Receiver<bool>) {
    while !*closed.borrow_and_update() {
        if closed.changed().await.is_err() {
            return;
        }
    }
}

/// Closes a connection of a call's own when the call ends, answered or given up.
struct CloseOnDrop(Arc<WorkerConn>);

impl Drop for CloseOnDrop {
    fn drop(&mut self) {
        self.0.close(WORKER_GONE);
    }
}

#[derive(Default)]
struct Connections {
    open: Vec<Arc<WorkerConn>>,
    dialing: bool, // a background dial is under way
}

/// Hands calls to the workers.
pub struct Link {
    socket: PathBuf,
    workers: usize,
    max_bytes: usize,
    next_id: AtomicU32,
    conns: Mutex<Connections>,
    dial_lock: tokio::sync::Mutex<()>, // held by the caller dialing when there is no connection
}

impl Link {
    pub fn new(socket: PathBuf, workers: usize, max_bytes: usize) -> Arc<Self> {
        Arc::new(Link {
            socket,
            workers: workers.max(1),
            max_bytes,
            next_id: AtomicU32::new(0),
            conns: Mutex::default(),
            dial_lock: tokio::sync::Mutex::new(()),
        })
    }

    /// Opens a connection and reads the worker's hello.
    async fn dial(self: &Arc<Self>) -> Result<Arc<WorkerConn>, String> {
        let stream = UnixStream::connect(&self.socket).await.map_err(|err| err.to_string())?;
        let (read_half, write_half) = stream.into_split();
        let mut reader = BufReader::with_capacity(64 << 10, read_half);
        let hello = match tokio::time::timeout(HELLO_TIMEOUT, read_frame(&mut reader, self.max_bytes)).await {
            Ok(Ok((KIND_HELLO, _, payload))) if payload.len() == 4 => Ok(payload),
            Ok(Ok((kind, _, _))) => Err(format!("expected a hello frame, got {:?}", kind as char)),
            Ok(Err(err)) => Err(err),
            Err(_) => Err("no hello within 10s".to_string()),
        };
        let pid = hello.map_err(|err| format!("the model worker did not greet: {err}"))?;
        let (frames, queued) = mpsc::unbounded_channel();
        let conn = Arc::new(WorkerConn {
            pid: u32::from_be_bytes(pid[..4].try_into().unwrap()),
            frames,
            pending: Mutex::default(),
            inflight: AtomicI32::new(0),
            draining: AtomicBool::new(false),
            closed: watch::Sender::new(false),
        });
        tokio::spawn(conn.clone().write(write_half, queued));
        tokio::spawn(conn.clone().read(reader, self.max_bytes, self.clone()));
        Ok(conn)
    }

    fn forget(&self, gone: &Arc<WorkerConn>) {
        self.conns.lock().unwrap().open.retain(|conn| !Arc::ptr_eq(conn, gone));
    }

    fn add(&self, conn: Arc<WorkerConn>) {
        self.conns.lock().unwrap().open.push(conn);
    }

    /// The connection of the least busy worker, opening one when there is none (one caller
    /// dials, the others wait for it), and another in the background while all are busy and
    /// some worker may have no connection yet.
    async fn pick(self: &Arc<Self>) -> Result<Arc<WorkerConn>, String> {
        if let Some(conn) = self.pick_open() {
            return Ok(conn);
        }
        let _dialing = self.dial_lock.lock().await;
        if let Some(conn) = self.pick_open() {
            return Ok(conn);
        }
        let conn = self.dial().await?;
        self.add(conn.clone());
        Ok(conn)
    }

    fn pick_open(self: &Arc<Self>) -> Option<Arc<WorkerConn>> {
        let mut conns = self.conns.lock().unwrap();
        // A connection that ended between its dial and add() is dropped here.
        conns.open.retain(|conn| !conn.is_closed());
        let (best, load) = least_busy(&conns.open)?;
        if load > 0 && self.may_look_for_workers(&conns) {
            conns.dialing = true;
            let link = self.clone();
            tokio::spawn(async move {
                if let Ok(conn) = link.dial().await {
                    link.add(conn);
                }
                link.conns.lock().unwrap().dialing = false;
            });
        }
        Some(best)
    }

    /// Fewer workers reached than there are, and room for another connection.
    fn may_look_for_workers(&self, conns: &Connections) -> bool {
        if conns.dialing || conns.open.len() >= self.workers * CONNECTIONS_PER_WORKER {
            return false;
        }
        let reached: HashSet<u32> = conns.open.iter().map(|conn| conn.pid).collect();
        reached.len() < self.workers
    }

    /// Relays one call and returns the worker's reply message.
    pub async fn call(self: &Arc<Self>, method: &str, headers: &[Header], message: &[u8]) -> Result<Bytes, Status> {
        let mut frame = call_frame(method, headers, message).map_err(Status::internal)?;
        let mut _own = None;
        let conn = if message.len() > LARGE_MESSAGE {
            let conn = self.dial().await.map_err(unavailable)?;
            _own = Some(CloseOnDrop(conn.clone())); // closed after the answer
            conn
        } else {
            self.pick().await.map_err(unavailable)?
        };
        let id = self.next_id.fetch_add(1, Ordering::Relaxed).wrapping_add(1);
        frame[4..8].copy_from_slice(&id.to_be_bytes());
        let waiting = conn.send(id, frame).map_err(unavailable)?;
        match waiting.await {
            Ok(Ok((0, reply))) => Ok(reply),
            Ok(Ok((code, message))) => Err(Status::new(
                Code::from_i32(code.into()),
                String::from_utf8_lossy(&message),
            )),
            Ok(Err(cause)) => Err(unavailable(cause)),
            Err(_) => Err(unavailable(WORKER_GONE.to_string())),
        }
    }

    /// Asks a worker for the descriptors of the protos it serves, retrying until one answers
    /// or `wait` has passed.
    pub async fn describe(self: &Arc<Self>, wait: Duration) -> Result<Bytes, String> {
        let deadline = Instant::now() + wait;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let err = match tokio::time::timeout(left, self.describe_once()).await {
                Ok(Ok(descriptors)) => return Ok(descriptors),
                Ok(Err(err)) => err,
                Err(_) => "no answer in time".to_string(),
            };
            if Instant::now() >= deadline {
                return Err(format!("the wrapper did not answer on its socket: {err}"));
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    async fn describe_once(self: &Arc<Self>) -> Result<Bytes, String> {
        let conn = self.dial().await?;
        let _closing = CloseOnDrop(conn.clone());
        let mut frame = vec![0; FRAME_HEAD];
        frame[..4].copy_from_slice(&((FRAME_HEAD - 4) as u32).to_be_bytes());
        frame[8] = KIND_DESCRIBE;
        match conn.send(0, frame)?.await {
            Ok(Ok((0, descriptors))) => Ok(descriptors),
            Ok(Ok((code, message))) => Err(format!(
                "descriptors: {:?}: {}",
                Code::from_i32(code.into()),
                String::from_utf8_lossy(&message)
            )),
            Ok(Err(cause)) => Err(cause),
            Err(_) => Err(WORKER_GONE.to_string()),
        }
    }
}

/// The connection whose worker has the fewest calls in progress (ties: the connection's own),
/// with that number.
fn least_busy(open: &[Arc<WorkerConn>]) -> Option<(Arc<WorkerConn>, i32)> {
    let mut per_worker: HashMap<u32, i32> = HashMap::with_capacity(open.len());
    for conn in open {
        *per_worker.entry(conn.pid).or_default() += conn.inflight.load(Ordering::SeqCst);
    }
    let mut best: Option<(&Arc<WorkerConn>, i32, i32)> = None;
    for conn in open.iter().filter(|conn| !conn.draining.load(Ordering::SeqCst)) {
        let (load, own) = (per_worker[&conn.pid], conn.inflight.load(Ordering::SeqCst));
        if best.is_none_or(|(_, best_load, best_own)| load < best_load || (load == best_load && own < best_own)) {
            best = Some((conn, load, own));
        }
    }
    best.map(|(conn, load, _)| (conn.clone(), load))
}

/// Lays out a call frame, its id left to fill in.
fn call_frame(method: &str, headers: &[Header], message: &[u8]) -> Result<Vec<u8>, String> {
    if method.len() > 255 || headers.len() > 255 {
        return Err("method name or metadata too long for the worker link".to_string());
    }
    let mut size = FRAME_HEAD + 1 + method.len() + 1 + message.len();
    for header in headers {
        if header.name.len() > 255 || header.value.len() > 65535 {
            return Err(format!("metadata {} too long for the worker link", header.name));
        }
        size += 1 + header.name.len() + 2 + header.value.len();
    }
    let mut frame = Vec::with_capacity(size);
    frame.extend_from_slice(&((size - 4) as u32).to_be_bytes());
    frame.extend_from_slice(&[0, 0, 0, 0, KIND_CALL, method.len() as u8]);
    frame.extend_from_slice(method.as_bytes());
    frame.push(headers.len() as u8);
    for header in headers {
        frame.push(header.name.len() as u8);
        frame.extend_from_slice(header.name.as_bytes());
        frame.extend_from_slice(&(header.value.len() as u16).to_be_bytes());
        frame.extend_from_slice(header.value.as_bytes());
    }
    frame.extend_from_slice(message);
    Ok(frame)
}

/// Reads one frame: its kind, id and payload.
async fn read_frame(reader: &mut BufReader<OwnedReadHalf>, max_bytes: usize) -> Result<(u8, u32, Bytes), String> {
    let mut head = [0u8; FRAME_HEAD];
    reader.read_exact(&mut head).await.map_err(|err| err.to_string())?;
    let length = u32::from_be_bytes(head[..4].try_into().unwrap()) as usize;
    // An answer carries at most a message of max_bytes, or an error message, after its code.
    if length < FRAME_HEAD - 4 || length > max_bytes + (64 << 10) {
        return Err(format!("a frame of {length} bytes"));
    }
    let mut payload = vec![0; length - (FRAME_HEAD - 4)];
    reader.read_exact(&mut payload).await.map_err(|err| err.to_string())?;
    Ok((
        head[8],
        u32::from_be_bytes(head[4..8].try_into().unwrap()),
        Bytes::from(payload),
    ))
}

fn unavailable(cause: String) -> Status {
    Status::unavailable(format!("the model worker is not answering: {cause}"))
}
