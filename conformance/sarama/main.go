// Sarama (Debian's 1.22) as the conformance suite drives it: reads one JSON request on stdin
// ({"op", "bootstrap", ...}), does it with Sarama's public API and prints one JSON answer; on
// failure prints {"error": ...} and exits 1. The ops and shapes are those of
// conformance/harness/process-driver.ts. Built in GOPATH mode from Debian's Go packages.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/Shopify/sarama"
)

type record struct {
	Partition int32             `json:"partition"`
	Offset    int64             `json:"offset"`
	Key       *string           `json:"key"`
	Value     *string           `json:"value"`
	Headers   map[string]string `json:"headers"`
	Timestamp *int64            `json:"timestamp,omitempty"`
}

type topicSpec struct {
	Name       string `json:"name"`
	Partitions int32  `json:"partitions"`
}

type request struct {
	Op          string          `json:"op"`
	Bootstrap   string          `json:"bootstrap"`
	Topic       string          `json:"topic"`
	Topics      json.RawMessage `json:"topics"`
	Records     []record        `json:"records"`
	Acks        int16           `json:"acks"`
	Compression string          `json:"compression"`
	Idempotent  bool            `json:"idempotent"`
	Partitions  int32           `json:"partitions"`
	Partition   int32           `json:"partition"`
	Timestamp   int64           `json:"timestamp"`
	Group       string          `json:"group"`
	Expected    int             `json:"expected"`
}

const timeout = 15 * time.Second

// brokers splits the comma-separated bootstrap list: every broker of a cluster, any of which may
// be down while the cluster restarts.
func brokers(req request) []string {
	return strings.Split(req.Bootstrap, ",")
}

func config() *sarama.Config {
	c := sarama.NewConfig()
	c.ClientID = "conformance-sarama"
	// 2.1 is the newest release this Sarama knows; it enables headers, zstd and idempotence.
	c.Version = sarama.V2_1_0_0
	c.Net.DialTimeout = timeout
	c.Net.ReadTimeout = timeout
	c.Metadata.Retry.Max = 5
	c.Consumer.MaxWaitTime = 50 * time.Millisecond
	return c
}

func str(s string) *string { return &s }

// groupHandler collects the claimed messages and marks each one, so the session commits them.
type groupHandler struct {
	messages chan<- record
}

func (groupHandler) Setup(sarama.ConsumerGroupSession) error   { return nil }
func (groupHandler) Cleanup(sarama.ConsumerGroupSession) error { return nil }

func (h groupHandler) ConsumeClaim(sess sarama.ConsumerGroupSession, claim sarama.ConsumerGroupClaim) error {
	for m := range claim.Messages() {
		headers := map[string]string{}
		for _, rh := range m.Headers {
			headers[string(rh.Key)] = string(rh.Value)
		}
		r := record{Partition: m.Partition, Offset: m.Offset, Headers: headers}
		if m.Key != nil {
			r.Key = str(string(m.Key))
		}
		if m.Value != nil {
			r.Value = str(string(m.Value))
		}
		select {
		case h.messages <- r:
		case <-sess.Context().Done():
			return nil
		}
		sess.MarkMessage(m, "")
	}
	return nil
}

// groupConsume joins a new group (no committed offsets: OffsetOldest decides the start), reads
// until `expected` records arrived, and closes the group, which commits the marked offsets.
func groupConsume(req request) (interface{}, error) {
	c := config()
	c.Consumer.Offsets.Initial = sarama.OffsetOldest
	c.Consumer.Group.Session.Timeout = 6 * time.Second
	c.Consumer.Group.Heartbeat.Interval = 500 * time.Millisecond
	c.Consumer.Offsets.CommitInterval = 100 * time.Millisecond
	c.Consumer.Return.Errors = true
	group, err := sarama.NewConsumerGroup(brokers(req), req.Group, c)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	messages := make(chan record, 1024)
	done := make(chan error, 1)
	go func() {
		// Consume returns at the end of each session (a rebalance); join again until cancelled.
		for ctx.Err() == nil {
			if err := group.Consume(ctx, []string{req.Topic}, groupHandler{messages}); err != nil {
				done <- err
				return
			}
		}
		done <- nil
	}()
	out := []record{}
	var failure error
	for len(out) < req.Expected && failure == nil {
		select {
		case r := <-messages:
			out = append(out, r)
		case err := <-group.Errors():
			failure = err
		case <-ctx.Done():
			failure = fmt.Errorf("consumed %d of %d records in %v", len(out), req.Expected, timeout)
		}
	}
	cancel()
	if err := <-done; err != nil && failure == nil {
		failure = err
	}
	if err := group.Close(); err != nil && failure == nil {
		failure = err
	}
	if failure != nil {
		return nil, failure
	}
	return map[string]interface{}{"records": out}, nil
}

func run(req request) (interface{}, error) {
	switch req.Op {
	case "metadata":
		client, err := sarama.NewClient(brokers(req), config())
		if err != nil {
			return nil, err
		}
		defer client.Close()
		partitions, err := client.Partitions(req.Topic)
		if err != nil {
			return nil, err
		}
		brokers := []map[string]interface{}{}
		for _, b := range client.Brokers() {
			host, port, _ := net.SplitHostPort(b.Addr())
			p, _ := strconv.Atoi(port)
			brokers = append(brokers, map[string]interface{}{"nodeId": b.ID(), "host": host, "port": p})
		}
		return map[string]interface{}{"brokers": brokers, "partitions": partitions}, nil

	case "create-topics", "describe-topics", "delete-topics":
		admin, err := sarama.NewClusterAdmin(brokers(req), config())
		if err != nil {
			return nil, err
		}
		defer admin.Close()
		if req.Op == "create-topics" {
			var specs []topicSpec
			if err := json.Unmarshal(req.Topics, &specs); err != nil {
				return nil, err
			}
			for _, t := range specs {
				if err := admin.CreateTopic(t.Name, &sarama.TopicDetail{NumPartitions: t.Partitions, ReplicationFactor: 1}, false); err != nil {
					return nil, err
				}
			}
			return map[string]interface{}{}, nil
		}
		var names []string
		if err := json.Unmarshal(req.Topics, &names); err != nil {
			return nil, err
		}
		if req.Op == "delete-topics" {
			for _, name := range names {
				if err := admin.DeleteTopic(name); err != nil {
					return nil, err
				}
			}
			return map[string]interface{}{}, nil
		}
		md, err := admin.DescribeTopics(names)
		if err != nil {
			return nil, err
		}
		out := []map[string]interface{}{}
		for _, t := range md {
			if t.Err != sarama.ErrNoError {
				return nil, fmt.Errorf("%s: %v", t.Name, t.Err)
			}
			out = append(out, map[string]interface{}{"name": t.Name, "partitions": len(t.Partitions)})
		}
		return map[string]interface{}{"topics": out}, nil

	case "produce":
		c := config()
		c.Producer.Partitioner = sarama.NewManualPartitioner
		c.Producer.Return.Successes = true
		c.Producer.RequiredAcks = sarama.RequiredAcks(req.Acks)
		c.Producer.Timeout = timeout
		switch req.Compression {
		case "gzip":
			c.Producer.Compression = sarama.CompressionGZIP
		case "snappy":
			c.Producer.Compression = sarama.CompressionSnappy
		case "lz4":
			c.Producer.Compression = sarama.CompressionLZ4
		case "zstd":
			c.Producer.Compression = sarama.CompressionZSTD
		}
		if req.Idempotent {
			c.Producer.Idempotent = true
			c.Net.MaxOpenRequests = 1
			c.Producer.Retry.Max = 5
		}
		producer, err := sarama.NewSyncProducer(brokers(req), c)
		if err != nil {
			return nil, err
		}
		msgs := []*sarama.ProducerMessage{}
		for _, r := range req.Records {
			m := &sarama.ProducerMessage{Topic: req.Topic, Partition: r.Partition, Key: sarama.StringEncoder(*r.Key), Value: sarama.StringEncoder(*r.Value)}
			for k, v := range r.Headers {
				m.Headers = append(m.Headers, sarama.RecordHeader{Key: []byte(k), Value: []byte(v)})
			}
			if r.Timestamp != nil {
				m.Timestamp = time.Unix(0, *r.Timestamp*int64(time.Millisecond))
			}
			msgs = append(msgs, m)
		}
		if err := producer.SendMessages(msgs); err != nil {
			producer.Close()
			if errs, ok := err.(sarama.ProducerErrors); ok && len(errs) > 0 {
				return nil, fmt.Errorf("%v (first of %d: %v)", err, len(errs), errs[0].Err)
			}
			return nil, err
		}
		if err := producer.Close(); err != nil {
			return nil, err
		}
		return map[string]interface{}{"sent": len(msgs)}, nil

	case "consume":
		client, err := sarama.NewClient(brokers(req), config())
		if err != nil {
			return nil, err
		}
		defer client.Close()
		consumer, err := sarama.NewConsumerFromClient(client)
		if err != nil {
			return nil, err
		}
		defer consumer.Close()
		out := []record{}
		for p := int32(0); p < req.Partitions; p++ {
			end, err := client.GetOffset(req.Topic, p, sarama.OffsetNewest)
			if err != nil {
				return nil, err
			}
			if end == 0 {
				continue
			}
			pc, err := consumer.ConsumePartition(req.Topic, p, sarama.OffsetOldest)
			if err != nil {
				return nil, err
			}
			deadline := time.After(timeout)
		read:
			for {
				select {
				case m := <-pc.Messages():
					headers := map[string]string{}
					for _, h := range m.Headers {
						headers[string(h.Key)] = string(h.Value)
					}
					ts := m.Timestamp.UnixNano() / int64(time.Millisecond)
					r := record{Partition: m.Partition, Offset: m.Offset, Headers: headers, Timestamp: &ts}
					if m.Key != nil {
						r.Key = str(string(m.Key))
					}
					if m.Value != nil {
						r.Value = str(string(m.Value))
					}
					out = append(out, r)
					if m.Offset >= end-1 {
						break read
					}
				case err := <-pc.Errors():
					pc.Close()
					return nil, err
				case <-deadline:
					pc.Close()
					return nil, fmt.Errorf("partition %d not read to %d in %v", p, end, timeout)
				}
			}
			pc.Close()
		}
		return map[string]interface{}{"records": out}, nil

	case "offset-for-time":
		client, err := sarama.NewClient(brokers(req), config())
		if err != nil {
			return nil, err
		}
		defer client.Close()
		offset, err := client.GetOffset(req.Topic, req.Partition, req.Timestamp)
		if err != nil {
			return nil, err
		}
		return map[string]interface{}{"offset": offset}, nil

	case "group-consume":
		return groupConsume(req)
	}
	return nil, fmt.Errorf("unknown op %q", req.Op)
}

func main() {
	var req request
	out, err := func() (interface{}, error) {
		if err := json.NewDecoder(os.Stdin).Decode(&req); err != nil {
			return nil, err
		}
		return run(req)
	}()
	if err != nil {
		json.NewEncoder(os.Stdout).Encode(map[string]string{"error": err.Error()})
		os.Exit(1)
	}
	json.NewEncoder(os.Stdout).Encode(out)
}
