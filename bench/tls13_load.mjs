// Full TLS 1.3 handshakes at load from Node.js (26: OpenSSL 3.5, which can
// offer X25519MLKEM768; Debian's libssl cannot). Run by bench/mlkem_load.sh.
//
//   node tls13_load.mjs --port N --group G [--offer LIST] [--ca FILE] [--procs P]
//        [--conns C] [--warmup S] [--duration S] [--server-pid PID]
//
// P child processes (child_process.fork of this file) each keep C
// connections in flight: tls.connect offering only group G (or the groups
// of --offer, an ecdhCurve list: how a fallback is provoked), TLS 1.3 only,
// no session given (so no resumption), one handshake per connection, then
// close_notify and the next connection. Once each child has finished a
// first connection and the warm-up has passed, the parent opens a window
// of S seconds: handshakes completed in it, errors, the latency
// of each (connect() to secureConnect), the children's CPU
// (process.cpuUsage), the server's CPU (utime + stime of /proc/PID/stat)
// and the time it waited for a CPU held by something else (schedstat). Every handshake's group and version are checked
// (getEphemeralKeyInfo, getProtocol) and that it was not resumed; one that
// is not G over TLS 1.3, a resumed one, or no handshake at all, makes the
// exit status 1.
// Output: one JSON object on stdout.
import tls from 'node:tls';
import fs from 'node:fs';
import { fork, execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

function args(argv) {
	const o = { port: 0, group: '', offer: '', ca: '', procs: 1, conns: 8, warmup: 1, duration: 5,
		    serverPid: 0, child: false };
	for (let i = 0; i < argv.length; i++) {
		const k = argv[i], v = argv[i + 1];
		switch (k) {
		case '--port': o.port = +v; i++; break;
		case '--group': o.group = v; i++; break;
		case '--offer': o.offer = v; i++; break;
		case '--ca': o.ca = v; i++; break;
		case '--procs': o.procs = +v; i++; break;
		case '--conns': o.conns = +v; i++; break;
		case '--warmup': o.warmup = +v; i++; break;
		case '--duration': o.duration = +v; i++; break;
		case '--server-pid': o.serverPid = +v; i++; break;
		case '--child': o.child = true; break;
		default: throw new Error('unknown argument ' + k);
		}
	}
	if (!(o.port > 0) || !o.group || !(o.procs >= 1) || !(o.conns >= 1) || !(o.duration > 0))
		throw new Error('usage: tls13_load.mjs --port N --group G [--offer LIST] [--ca FILE] [--procs P] [--conns C] ' +
				'[--warmup S] [--duration S] [--server-pid PID]');
	return o;
}

const nowMs = () => Number(process.hrtime.bigint()) / 1e6;

// ---- child: C connections in flight until the parent says stop ----
function child(o) {
	const ca = o.ca ? fs.readFileSync(o.ca) : undefined;
	// one context for every connection: without it tls.connect makes a new
	// SSL_CTX per connection, which costs the client more than the handshake
	const secureContext = tls.createSecureContext({ ca, ecdhCurve: o.offer || o.group,
							minVersion: 'TLSv1.3', maxVersion: 'TLSv1.3' });
	let counting = false, stopping = false, ready = false, inFlight = 0;
	let n = 0, errors = 0, wrong = 0, reused = 0, lat = [], cpu0 = null, firstWrong = '';
	const errKinds = {};
	function one() {
		if (stopping) {
			if (inFlight === 0) process.exit(0);
			return;
		}
		inFlight++;
		const t0 = nowMs(), counted = counting;
		let done = false;
		const finish = () => {
			if (done) return;
			done = true;
			inFlight--;
			if (!ready) { // the first handshake (or error): the warm-up starts
				ready = true;
				process.send('ready');
			}
			setImmediate(one);
		};
		const s = tls.connect({ host: '127.0.0.1', port: o.port, servername: 'localhost',
					secureContext, rejectUnauthorized: !!ca }, () => {
			const g = s.getEphemeralKeyInfo().name;
			if (g !== o.group || s.getProtocol() !== 'TLSv1.3') { // warm-up included: never acceptable
				wrong++;
				if (!firstWrong) firstWrong = `${g} ${s.getProtocol()}`;
			} else if (s.isSessionReused()) {
				reused++;
			} else if (counting && counted) {
				n++;
				lat.push(nowMs() - t0);
			}
			s.end();
			finish();
		});
		s.setTimeout(10000, () => s.destroy(new Error('handshake timeout')));
		s.on('error', e => {
			if (counting && counted && !done) {
				errors++;
				errKinds[e.code || e.message] = (errKinds[e.code || e.message] || 0) + 1;
			}
			finish();
		});
		s.on('close', finish);
	}
	process.on('message', m => {
		if (m === 'start') {
			n = errors = 0;
			lat = [];
			cpu0 = process.cpuUsage();
			counting = true;
		} else if (m === 'stop') {
			const c = process.cpuUsage(cpu0);
			counting = false;
			process.send({ n, errors, wrong, reused, firstWrong, errKinds, lat, cpuUs: c.user + c.system });
			stopping = true;
			setTimeout(() => process.exit(0), 2000).unref();
		}
	});
	for (let i = 0; i < o.conns; i++) one();
}

// ---- parent ----
function serverTicks(pid) {
	if (!pid) return null;
	const st = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
	const f = st.slice(st.lastIndexOf(')') + 2).split(' ');
	return +f[11] + +f[12]; // utime, stime (fields 14, 15 of the line)
}

// ns the threads of pid waited for a CPU held by something else
// (schedstat run_delay); null when unreadable
function runDelayNs(pid) {
	try {
		return fs.readdirSync(`/proc/${pid}/task`).reduce((a, t) =>
			a + +fs.readFileSync(`/proc/${pid}/task/${t}/schedstat`, 'utf8').split(' ')[1], 0);
	} catch { return null; }
}

function clkTck() {
	try {
		return +execFileSync('getconf', ['CLK_TCK']).toString().trim() || 100;
	} catch { return 100; } // USER_HZ is 100 on every usual Linux build
}

const sleep = ms => new Promise(r => setTimeout(r, ms));

function pct(sorted, p) {
	if (sorted.length === 0) return null;
	return sorted[Math.min(sorted.length - 1, Math.floor(p / 100 * sorted.length))];
}

async function parent(o) {
	const me = fileURLToPath(import.meta.url);
	const kids = [];
	const results = [];
	let nReady = 0;
	for (let i = 0; i < o.procs; i++) {
		const k = fork(me, [...process.argv.slice(2), '--child'], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
		k.on('message', m => m === 'ready' ? nReady++ : results.push(m));
		kids.push(k);
	}
	// the warm-up starts once every child has finished a first connection
	for (let i = 0; i < 1200 && nReady < o.procs; i++) await sleep(25);
	if (nReady < o.procs) {
		kids.forEach(k => k.kill());
		throw new Error(`${o.procs - nReady} client processes finished no connection in 30 s`);
	}
	await sleep(o.warmup * 1000);
	const hz = clkTck();
	const s0 = serverTicks(o.serverPid), w0 = o.serverPid ? runDelayNs(o.serverPid) : null, p0 = process.cpuUsage();
	const t0 = nowMs();
	kids.forEach(k => k.send('start'));
	await sleep(o.duration * 1000);
	kids.forEach(k => k.send('stop'));
	const t1 = nowMs();
	const s1 = serverTicks(o.serverPid), w1 = o.serverPid ? runDelayNs(o.serverPid) : null, p1 = process.cpuUsage(p0);
	for (let i = 0; i < 200 && results.length < o.procs; i++) await sleep(25);
	kids.forEach(k => { try { k.kill(); } catch { /* gone */ } });
	if (results.length < o.procs) throw new Error(`${o.procs - results.length} client processes did not report`);

	const secs = (t1 - t0) / 1000;
	const n = results.reduce((a, r) => a + r.n, 0);
	const errors = results.reduce((a, r) => a + r.errors, 0);
	const wrong = results.reduce((a, r) => a + r.wrong, 0);
	const reused = results.reduce((a, r) => a + r.reused, 0);
	const errKinds = {};
	results.forEach(r => Object.entries(r.errKinds).forEach(([k, v]) => errKinds[k] = (errKinds[k] || 0) + v));
	const lat = results.flatMap(r => r.lat).sort((a, b) => a - b);
	const clientCpuUs = results.reduce((a, r) => a + r.cpuUs, 0) + p1.user + p1.system;
	const out = {
		client: 'node', group: o.group, procs: o.procs, conns: o.conns, seconds: +secs.toFixed(3),
		handshakes: n, errors, errKinds, wrongGroup: wrong, resumed: reused,
		firstWrongGroup: results.map(r => r.firstWrong).find(x => x) || null,
		hsPerSec: +(n / secs).toFixed(1),
		p50ms: pct(lat, 50) && +pct(lat, 50).toFixed(3), p99ms: pct(lat, 99) && +pct(lat, 99).toFixed(3),
		clientUsPerHs: n ? +(clientCpuUs / n).toFixed(1) : null,
		clientCpuPct: +(clientCpuUs / 1e4 / secs).toFixed(1),
	};
	if (s0 !== null) {
		const us = (s1 - s0) * 1e6 / hz;
		out.serverUsPerHs = n ? +(us / n).toFixed(1) : null;
		out.serverCpuPct = +(us / 1e4 / secs).toFixed(1);
		if (w0 !== null && w1 !== null) out.serverWaitPct = +((w1 - w0) / 1e7 / secs).toFixed(1);
	}
	console.log(JSON.stringify(out));
	if (n === 0 || wrong > 0 || reused > 0) {
		console.error(wrong > 0 ? `${wrong} handshakes negotiated ${out.firstWrongGroup}, not ${o.group} TLSv1.3` :
			      reused > 0 ? `${reused} handshakes resumed a session` : 'no handshake completed');
		process.exit(1);
	}
}

const o = args(process.argv.slice(2));
if (o.child) child(o);
else parent(o).catch(e => { console.error(e.message); process.exit(1); });
