// Drives the guide's Node.js MemcachedAdapter (memcached_adapter.js, unchanged) against one
// server and prints every step's result as JSON: [[label, result], ...]. A rejected promise
// is recorded as {"error": message}. test_seed_adapter_node.py runs it against ferrite-host
// and redis-server and compares; the comments on what the guide gets wrong are there.
//
//   NODE_PATH=<dir with ioredis> node adapter_scenario.js <port> [hang]
//
// With "hang" it does one GET and never calls quit(), as an application using the
// adapter as written would (the adapter has no close method).
'use strict';

const MemcachedAdapter = require('./memcached_adapter.js');

async function main() {
    const port = Number(process.argv[2]);
    const adapter = new MemcachedAdapter('127.0.0.1', port);
    if (process.argv[3] === 'hang') {
        await adapter.flush();
        console.log(JSON.stringify(await adapter.get('x')));
        return;  // the ioredis connection stays open: node does not exit
    }
    const out = [];
    const step = async (label, fn) => {
        try {
            out.push([label, await fn()]);
        } catch (e) {
            out.push([label, { error: e.message }]);
        }
    };
    const a = adapter;
    await step('flush', () => a.flush());

    // The guide's Python "Functional Testing" steps, through this adapter.
    await step('set test_key 60', () => a.set('test_key', 'test_value', 60));
    await step('get test_key', () => a.get('test_key'));
    await step('set counter 0', () => a.set('counter', '0'));
    await step('incr counter', () => a.incr('counter'));
    await step('decr counter', () => a.decr('counter'));
    await step('add new_key', () => a.add('new_key', 'value'));
    await step('add new_key again', () => a.add('new_key', 'other'));
    await step('replace new_key', () => a.replace('new_key', 'updated'));
    await step('replace missing', () => a.replace('missing', 'value'));
    await step('get missing', () => a.get('missing'));

    // Each method, with and without a lifetime.
    await step('set k1', () => a.set('k1', 'v1'));
    await step('set k2 100', () => a.set('k2', 'v2', 100));
    await step('ttl k2', () => a.client.ttl('k2'));
    await step('getMulti', () => a.getMulti(['k1', 'k2', 'nope']));
    await step('add k3 100', () => a.add('k3', 'v3', 100));
    await step('add k3 100 again', () => a.add('k3', 'v3', 100));
    await step('replace k3 50', () => a.replace('k3', 'v4', 50));
    await step('ttl k3', () => a.client.ttl('k3'));
    await step('replace k2 no lifetime', () => a.replace('k2', 'v2b'));
    await step('ttl k2 after replace', () => a.client.ttl('k2'));
    await step('replace missing 50', () => a.replace('missing', 'v', 50));
    await step('touch k1 100', () => a.touch('k1', 100));
    await step('touch nope 100', () => a.touch('nope', 100));
    await step('delete k3', () => a.delete('k3'));
    await step('delete k3 again', () => a.delete('k3'));

    // Where memcached semantics and the adapter part ways.
    await step('touch k1 0', () => a.touch('k1', 0));
    await step('get k1 after touch 0', () => a.get('k1'));
    await step('incr absent 5', () => a.incr('absent', 5));
    await step('set d 1', () => a.set('d', '1'));
    await step('decr d 5', () => a.decr('d', 5));
    await step('set s abc', () => a.set('s', 'abc'));
    await step('incr s', () => a.incr('s'));
    await step('set neg -1', () => a.set('neg', 'v', -1));
    await step('get neg', () => a.get('neg'));
    await step('ttl neg', () => a.client.ttl('neg'));
    await step('set abs 2592001', () => a.set('abs', 'v', 2592001));
    await step('ttl abs', () => a.client.ttl('abs'));
    await step('set bin ff fe', () => a.set('bin', Buffer.from([0xff, 0xfe])));
    await step('get bin', () => a.get('bin'));
    await step('getBuffer bin', async () => [...await a.client.getBuffer('bin')]);
    await step('set empty', () => a.set('empty', ''));
    await step('get empty', () => a.get('empty'));
    await step('set num 42', () => a.set('num', 42));
    await step('get num', () => a.get('num'));

    await step('flush at the end', () => a.flush());
    await step('get test_key after flush', () => a.get('test_key'));

    await a.client.quit();
    console.log(JSON.stringify(out));
}

main().catch((e) => {
    console.error(e && e.stack ? e.stack : String(e));
    process.exit(1);
});
