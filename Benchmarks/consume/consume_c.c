/*
 * The C baseline of the consume benchmark: reads COUNT records from every
 * partition of TOPIC with rd_kafka_consume_batch_queue, as a plain
 * librdkafka program would, and prints "records N bytes B seconds S hwm H"
 * (H: peak RSS in bytes).
 * Same consumer properties as the Swift reader (see SluiceBench/ReadCommand.swift).
 *
 * usage: consume_c BOOTSTRAP TOPIC PARTITIONS COUNT
 */
#include <librdkafka/rdkafka.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* This process's peak RSS (VmHWM), in bytes; 0 if unknown. */
static long long peak_rss_bytes(void) {
    FILE *status = fopen("/proc/self/status", "r");
    char line[256];
    long long kilobytes = 0;
    if (!status) return 0;
    while (fgets(line, sizeof line, status))
        if (sscanf(line, "VmHWM: %lld kB", &kilobytes) == 1) break;
    fclose(status);
    return kilobytes * 1024;
}

static void set(rd_kafka_conf_t *conf, const char *name, const char *value) {
    char err[512];
    if (rd_kafka_conf_set(conf, name, value, err, sizeof err) != RD_KAFKA_CONF_OK) {
        fprintf(stderr, "setting %s: %s\n", name, err);
        exit(2);
    }
}

int main(int argc, char **argv) {
    if (argc != 5) {
        fprintf(stderr, "usage: %s BOOTSTRAP TOPIC PARTITIONS COUNT\n", argv[0]);
        return 2;
    }
    const char *bootstrap = argv[1], *topic = argv[2];
    int partitions = atoi(argv[3]);
    long long count = atoll(argv[4]);

    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    set(conf, "bootstrap.servers", bootstrap);
    set(conf, "group.id", "bench-c-reader");
    set(conf, "enable.auto.commit", "false");
    set(conf, "enable.auto.offset.store", "false");
    set(conf, "queued.min.messages", "1000000");
    char err[512];
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof err);
    if (!rk) {
        fprintf(stderr, "rd_kafka_new: %s\n", err);
        return 1;
    }
    rd_kafka_poll_set_consumer(rk);
    rd_kafka_topic_partition_list_t *list = rd_kafka_topic_partition_list_new(partitions);
    for (int p = 0; p < partitions; p++)
        rd_kafka_topic_partition_list_add(list, topic, p)->offset = RD_KAFKA_OFFSET_BEGINNING;
    rd_kafka_queue_t *queue = rd_kafka_queue_get_consumer(rk);

    double start = now_seconds();
    if (rd_kafka_assign(rk, list) != RD_KAFKA_RESP_ERR_NO_ERROR) {
        fprintf(stderr, "assign failed\n");
        return 1;
    }
    rd_kafka_topic_partition_list_destroy(list);

    enum { BATCH = 10000 };
    rd_kafka_message_t **messages = malloc(sizeof(*messages) * BATCH);
    long long received = 0, bytes = 0;
    double first = 0;
    double deadline = start + 300;
    while (received < count && now_seconds() < deadline) {
        ssize_t n = rd_kafka_consume_batch_queue(queue, 100, messages, BATCH);
        if (n > 0 && first == 0) first = now_seconds() - start;
        for (ssize_t i = 0; i < n; i++) {
            if (!messages[i]->err) {
                received++;
                bytes += (long long)messages[i]->len;
            }
            rd_kafka_message_destroy(messages[i]);
        }
    }
    double seconds = now_seconds() - start;
    printf("records %lld bytes %lld seconds %.6f hwm %lld first %.6f\n", received, bytes, seconds, peak_rss_bytes(), first);
    free(messages);
    rd_kafka_queue_destroy(queue);
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
    return received == count ? 0 : 1;
}
