#!/usr/bin/env node
// Differential vectors for ML-KEM-768 from OpenSSL 3.5 as Node.js 26
// exposes it (crypto.generateKeyPairSync('ml-kem-768'), crypto.encapsulate).
// Each line: "seed=<d||z> ek=<Node's ek> ct=<Node's ciphertext> ss=<secret>
// bad=<ct with one byte changed> rej=<Node's decapsulation of bad>".
// tests/acc_mlkem_test.cc checks, offline: our KeyGen(d, z) gives Node's
// ek, and our Decaps of Node's ciphertext gives Node's secret (its
// re-encryption runs our Encrypt too), and of the changed ciphertext
// Node's implicit rejection secret J(z || c). Regenerate with
//   node tests/tools/mlkem_node_vectors.js 8 > tests/data/mlkem768_node.txt
'use strict';
const crypto = require('crypto');

const n = Number(process.argv[2] || 8);
console.log('# ML-KEM-768 vectors made by OpenSSL ' + process.versions.openssl + ' (Node.js ' +
	    process.version + ') with tests/tools/mlkem_node_vectors.js');
for (let i = 0; i < n; i++) {
	const { publicKey, privateKey } = crypto.generateKeyPairSync('ml-kem-768');
	const seed = privateKey.export({ format: 'raw-seed' });
	const ek = publicKey.export({ format: 'raw-public' });
	const { sharedKey, ciphertext } = crypto.encapsulate(publicKey);
	const bad = Buffer.from(ciphertext);
	bad[(i * 131) % bad.length] ^= 1 << (i % 8);
	const rej = crypto.decapsulate(privateKey, bad);
	console.log('seed=' + seed.toString('hex') + ' ek=' + ek.toString('hex') + ' ct=' +
		    ciphertext.toString('hex') + ' ss=' + sharedKey.toString('hex') + ' bad=' +
		    bad.toString('hex') + ' rej=' + rej.toString('hex'));
}
