#!/usr/bin/env node
// Live differential check of accel's ML-KEM-768 (build/tests/mlkem_tool)
// against OpenSSL 3.5 through Node.js 26, both directions, ROUNDS times:
//   Node's ek -> our Encaps -> Node decapsulates our ciphertext: same secret
//   our KeyGen's ek -> Node encapsulates -> our Decaps: same secret
// and an ek with a coefficient >= q is refused by us (FIPS 203 7.2) as by
// Node. Usage: node mlkem_live_check.js path/to/mlkem_tool [ROUNDS]
'use strict';
const crypto = require('crypto');
const { execFileSync, spawnSync } = require('child_process');

const tool = process.argv[2];
const rounds = Number(process.argv[3] || 20);
const run = (...a) => execFileSync(tool, a, { encoding: 'utf8' }).trim().split(' ');
let bad = 0;

for (let i = 0; i < rounds; i++) {
	const { publicKey, privateKey } = crypto.generateKeyPairSync('ml-kem-768');
	const ek = publicKey.export({ format: 'raw-public' }).toString('hex');
	const [ct, ss] = run('encaps', ek);
	const theirs = crypto.decapsulate(privateKey, Buffer.from(ct, 'hex')).toString('hex');
	if (theirs !== ss) {
		console.log('round ' + i + ': Node decapsulates our ciphertext to another secret');
		bad++;
	}
	const [ourEk, ourDk] = run('keygen');
	const pub = crypto.createPublicKey({ key: Buffer.from(ourEk, 'hex'), format: 'raw-public',
					     asymmetricKeyType: 'ml-kem-768' });
	const { sharedKey, ciphertext } = crypto.encapsulate(pub);
	const [ours] = run('decaps', ourDk, ciphertext.toString('hex'));
	if (ours !== sharedKey.toString('hex')) {
		console.log('round ' + i + ': our Decaps of Node\'s ciphertext gives another secret');
		bad++;
	}
}
// coefficient 0 set to q = 3329 (0xd01): not a valid key for either side
const { publicKey } = crypto.generateKeyPairSync('ml-kem-768');
const unreduced = publicKey.export({ format: 'raw-public' });
unreduced[0] = 0x01;
unreduced[1] = (unreduced[1] & 0xf0) | 0x0d;
if (spawnSync(tool, ['encaps', unreduced.toString('hex')]).status !== 1) {
	console.log('an unreduced ek was accepted');
	bad++;
}
let nodeRefused = false;
try {
	crypto.encapsulate(crypto.createPublicKey({ key: unreduced, format: 'raw-public', asymmetricKeyType: 'ml-kem-768' }));
} catch (e) {
	nodeRefused = true;
}
console.log('Node refuses the unreduced ek too: ' + nodeRefused);
console.log(bad === 0 ? 'ok ' + rounds + ' rounds both ways' : bad + ' mismatches');
process.exit(bad === 0 ? 0 : 1);
