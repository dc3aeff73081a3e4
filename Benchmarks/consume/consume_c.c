/*
 * The C baseline of the consume benchmark: reads COUNT records from every
 * partition of TOPIC with rd_kafka_consume_batch_queue, as a plain
 * librdkafka program would, and prints "records N bytes B seconds S hwm H
 * first F cpu C poll P" (H: peak RSS in bytes; F: seconds from assign to the
 * first record; C and P: CPU seconds the process and the polling thread
 * used from assign to the last record).
 * The consumer properties are given as NAME=VALUE arguments: the benchmark
 * passes the Swift reader's (KafkaConsumerConfiguration.librdkafkaProperties,
 * see SluiceBench/ReadCommand.swift), so both run with the same settings.
 * With --headers it also asks librdkafka for each record's headers, as
 * KafkaConsumer does unless readsHeaders is false (librdkafka parses the
 * header section then, allocating even when it holds none).
 *
 * usage: consume_c BOOTSTRAP TOPIC PARTITIONS COUNT [--headers] [NAME=VALUE ...]
 */
#include <librdkafka/rdkafka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double clock_seconds(clockid_t clock) {
    struct timespec ts;
    clock_gettime(clock, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static double now_seconds(void) { return clock_seconds(CLOCK_MONOTONIC); }

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
    if (argc < 5) {
        fprintf(stderr, "usage: %s BOOTSTRAP TOPIC PARTITIONS COUNT [--headers] [NAME=VALUE ...]\n", argv[0]);
        return 2;
    }
    const char *bootstrap = argv[1], *topic = argv[2];
    int partitions = atoi(argv[3]);
    long long count = atoll(argv[4]);

    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    set(conf, "bootstrap.servers", bootstrap);
    set(conf, "group.id", "bench-c-reader");
    int first_property = 5, reads_headers = 0;
    if (argc > 5 && strcmp(argv[5], "--headers") == 0) {
        reads_headers = 1;
        first_property = 6;
    }
    for (int i = first_property; i < argc; i++) {
        char *name = argv[i], *equals = strchr(name, '=');
        if (!equals) {
            fprintf(stderr, "not NAME=VALUE: %s\n", name);
            return 2;
        }
        *equals = '\0';
        set(conf, name, equals + 1);
    }
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
    double cpu_start = clock_seconds(CLOCK_PROCESS_CPUTIME_ID), poll_start = clock_seconds(CLOCK_THREAD_CPUTIME_ID);
    /* Assign as KafkaConsumer.assign does: a metadata request for all topics
     * (it checks that the partitions exist), then a topic handle and a
     * metadata request for the topic, so that librdkafka knows the partition
     * leaders when the assignment starts; without them it looks the
     * beginning offsets up only 500 ms later. */
    const struct rd_kafka_metadata *metadata;
    if (rd_kafka_metadata(rk, 1, NULL, &metadata, 10000) != RD_KAFKA_RESP_ERR_NO_ERROR) {
        fprintf(stderr, "metadata failed\n");
        return 1;
    }
    rd_kafka_metadata_destroy(metadata);
    rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, topic, NULL);
    if (!rkt) {
        fprintf(stderr, "rd_kafka_topic_new failed\n");
        return 1;
    }
    if (rd_kafka_metadata(rk, 0, rkt, &metadata, 10000) == RD_KAFKA_RESP_ERR_NO_ERROR)
        rd_kafka_metadata_destroy(metadata);
    if (rd_kafka_assign(rk, list) != RD_KAFKA_RESP_ERR_NO_ERROR) {
        fprintf(stderr, "assign failed\n");
        return 1;
    }
    rd_kafka_topic_destroy(rkt);
    rd_kafka_topic_partition_list_destroy(list);

    enum { BATCH = 10000 };
    rd_kafka_message_t **messages = malloc(sizeof(*messages) * BATCH);
    long long received = 0, bytes = 0, header_count = 0;
    double first = 0;
    double deadline = start + 300;
    while (received < count && now_seconds() < deadline) {
        ssize_t n = rd_kafka_consume_batch_queue(queue, 100, messages, BATCH);
        if (n > 0 && first == 0) first = now_seconds() - start;
        for (ssize_t i = 0; i < n; i++) {
            if (!messages[i]->err) {
                received++;
                bytes += (long long)messages[i]->len;
                rd_kafka_headers_t *headers;
                if (reads_headers && rd_kafka_message_headers(messages[i], &headers) == RD_KAFKA_RESP_ERR_NO_ERROR)
                    header_count += (long long)rd_kafka_header_cnt(headers);
            }
            rd_kafka_message_destroy(messages[i]);
        }
    }
    double seconds = now_seconds() - start;
    double cpu = clock_seconds(CLOCK_PROCESS_CPUTIME_ID) - cpu_start, poll = clock_seconds(CLOCK_THREAD_CPUTIME_ID) - poll_start;
    printf("records %lld bytes %lld seconds %.6f hwm %lld first %.6f cpu %.6f poll %.6f headers %lld\n", received, bytes,
           seconds, peak_rss_bytes(), first, cpu, poll, header_count);
    free(messages);
    rd_kafka_queue_destroy(queue);
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
    return received == count ? 0 : 1;
}
