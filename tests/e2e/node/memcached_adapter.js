// Verbatim from the "Migrating from Memcached" guide, section "Node.js Adapter".
// Do not fix anything here: tests/e2e/test_seed_adapter_node.py proves what it does as
// written, against ferrite-host and redis-server 7.0, and names each flaw.

const Redis = require('ioredis');

class MemcachedAdapter {
    constructor(host = 'localhost', port = 6379) {
        this.client = new Redis({ host, port });
    }

    async get(key) {
        return await this.client.get(key);
    }

    async getMulti(keys) {
        const values = await this.client.mget(keys);
        return Object.fromEntries(
            keys.map((k, i) => [k, values[i]])
        );
    }

    async set(key, value, lifetime = 0) {
        if (lifetime > 0) {
            return await this.client.setex(key, lifetime, value);
        }
        return await this.client.set(key, value);
    }

    async add(key, value, lifetime = 0) {
        if (lifetime > 0) {
            return await this.client.set(key, value, 'EX', lifetime, 'NX');
        }
        return await this.client.setnx(key, value);
    }

    async replace(key, value, lifetime = 0) {
        if (lifetime > 0) {
            return await this.client.set(key, value, 'EX', lifetime, 'XX');
        }
        return await this.client.set(key, value, 'XX');
    }

    async delete(key) {
        return await this.client.del(key);
    }

    async incr(key, delta = 1) {
        return await this.client.incrby(key, delta);
    }

    async decr(key, delta = 1) {
        return await this.client.decrby(key, delta);
    }

    async touch(key, lifetime) {
        return await this.client.expire(key, lifetime);
    }

    async flush() {
        return await this.client.flushall();
    }
}

module.exports = MemcachedAdapter;
