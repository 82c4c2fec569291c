/*
 * sign_and_spool: what device firmware does with the SDK's C interface.
 *
 * Creates a device key from 32 bytes, starts the uptime chain of epoch 42,
 * signs three heartbeats, appends each to the durable spool in the
 * directory given as the only argument, and prints what it did:
 *
 *   pub <A.x hex> <A.y hex>
 *   id <device id hex>
 *   record <seq> <encoded record hex>     (three times)
 *   replay <status> <message>             (a slot that does not increase)
 *   null <status> <message>               (a null argument)
 *   pending <count>
 *   head <chain head hex> <len>
 *
 * Field elements are 32 bytes little-endian. Exit status 0 on success.
 * The Rust test tests/c_example.rs compiles this file against the static
 * library, runs it and checks its output and spool.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "depin_device.h"

static void print_hex(const uint8_t *bytes, size_t len) {
    for (size_t i = 0; i < len; i++) {
        printf("%02x", bytes[i]);
    }
}

#define CHECK(call)                                                        \
    do {                                                                   \
        DepinStatus status_ = (call);                                      \
        if (status_ != DEPIN_STATUS_OK) {                                  \
            fprintf(stderr, "%s: %s\n", #call,                             \
                    depin_status_message((int32_t)status_));               \
            return 1;                                                      \
        }                                                                  \
    } while (0)

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: %s SPOOL_DIR\n", argv[0]);
        return 2;
    }

    uint8_t secret[32];
    for (size_t i = 0; i < sizeof secret; i++) {
        secret[i] = (uint8_t)(i + 1);
    }
    DepinDevice *device = NULL;
    CHECK(depin_device_new(secret, &device));
    memset(secret, 0, sizeof secret);

    uint8_t x[32], y[32], id[32];
    CHECK(depin_device_public_key(device, x, y));
    CHECK(depin_device_id(device, id));
    printf("pub ");
    print_hex(x, 32);
    printf(" ");
    print_hex(y, 32);
    printf("\nid ");
    print_hex(id, 32);
    printf("\n");

    DepinChain chain;
    CHECK(depin_uptime_chain_init(id, 42, &chain));
    uint8_t beacon[32] = {0};
    beacon[0] = 7; /* the epoch beacon, 7 */

    DepinSpool *spool = NULL;
    CHECK(depin_spool_open(argv[1], 1u << 20, &spool));

    for (uint32_t i = 0; i < 3; i++) {
        DepinHeartbeat hb;
        CHECK(depin_heartbeat_sign(device, &chain, beacon, 2 * i + 1, 30 + i, &hb));
        /* The chain head is the device's signed message. */
        CHECK(depin_verify(x, y, hb.head, &hb.signature));
        uint8_t record[DEPIN_MAX_RECORD_LEN];
        size_t len = 0;
        CHECK(depin_heartbeat_encode(&hb, record, sizeof record, &len));
        uint64_t seq = 0;
        CHECK(depin_spool_append(spool, record, len, &seq));
        printf("record %" PRIu64 " ", seq);
        print_hex(record, len);
        printf("\n");
    }

    DepinHeartbeat again;
    DepinStatus replay = depin_heartbeat_sign(device, &chain, beacon, 1, 30, &again);
    printf("replay %d %s\n", (int)replay, depin_status_message((int32_t)replay));
    DepinStatus null = depin_heartbeat_sign(device, NULL, beacon, 9, 30, &again);
    printf("null %d %s\n", (int)null, depin_status_message((int32_t)null));

    /* The device asks for the proof of its uptime epoch 42 (kind 1). */
    DepinSignature prove;
    CHECK(depin_prove_request_sign(device, 1, 42, beacon, &prove));
    printf("prove ");
    print_hex(prove.s, 32);
    printf("\n");
    DepinStatus bad_kind = depin_prove_request_sign(device, 9, 42, beacon, &prove);
    printf("bad_kind %d\n", (int)bad_kind);

    uint64_t pending = 0;
    CHECK(depin_spool_pending(spool, &pending));
    printf("pending %" PRIu64 "\n", pending);
    printf("head ");
    print_hex(chain.head, 32);
    printf(" %" PRIu32 "\n", chain.len);

    depin_spool_close(spool);
    depin_device_free(device);
    return 0;
}
