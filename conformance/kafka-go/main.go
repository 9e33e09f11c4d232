// kafka-go (Debian's 0.2.1) as the conformance suite drives it: reads one JSON request on stdin
// ({"op", "bootstrap", ...}), does it with kafka-go's Conn API and prints one JSON answer; on
// failure prints {"error": ...} and exits 1. The ops and shapes are those of
// conformance/harness/process-driver.ts. This release writes magic 0/1 message sets (no record
// headers, no zstd, no idempotence) and has no controller lookup: admin requests go to the first
// broker that answers, which forwards them to the controller in KRaft. A request may name a
// "security" (conformance/security/): TLS with the test CA and, if given, a client certificate,
// through the Dialer; this release has no SASL. Built in GOPATH mode from Debian's Go packages.
package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io/ioutil"
	"net"
	"os"
	"strings"
	"time"

	kafka "github.com/segmentio/kafka-go"
	"github.com/segmentio/kafka-go/gzip"
	"github.com/segmentio/kafka-go/lz4"
	"github.com/segmentio/kafka-go/snappy"
)

type record struct {
	Partition int               `json:"partition"`
	Offset    int64             `json:"offset"`
	Key       *string           `json:"key"`
	Value     *string           `json:"value"`
	Headers   map[string]string `json:"headers"`
	Timestamp *int64            `json:"timestamp,omitempty"`
}

type topicSpec struct {
	Name       string `json:"name"`
	Partitions int    `json:"partitions"`
}

type request struct {
	Op          string          `json:"op"`
	Bootstrap   string          `json:"bootstrap"`
	Topic       string          `json:"topic"`
	Topics      json.RawMessage `json:"topics"`
	Records     []record        `json:"records"`
	Acks        int             `json:"acks"`
	Compression string          `json:"compression"`
	Partitions  int             `json:"partitions"`
	Partition   int             `json:"partition"`
	Timestamp   int64           `json:"timestamp"`
	Group       string          `json:"group"`
	Expected    int             `json:"expected"`
	Security    *security       `json:"security"`
}

// security says how to connect when it is not PLAINTEXT: protocol SSL with PEM files.
type security struct {
	Protocol string `json:"protocol"`
	CAFile   string `json:"caFile"`
	CertFile string `json:"certFile"`
	KeyFile  string `json:"keyFile"`
}

// dialer opens every connection: kafka-go's default one, or one with TLS set in main.
var dialer = kafka.DefaultDialer

// secureDialer is a Dialer with TLS. This release's Dialer hands the tls.Config to tls.Client as
// it is, which needs a server name: the bootstrap host, which the test broker also advertises.
func secureDialer(req request) (*kafka.Dialer, error) {
	s := req.Security
	if s.Protocol != "SSL" {
		return nil, fmt.Errorf("kafka-go 0.2.1 connects over PLAINTEXT or SSL only, not %s", s.Protocol)
	}
	ca, err := ioutil.ReadFile(s.CAFile)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(ca) {
		return nil, fmt.Errorf("no certificate in %s", s.CAFile)
	}
	host, _, err := net.SplitHostPort(strings.Split(req.Bootstrap, ",")[0])
	if err != nil {
		return nil, err
	}
	c := &tls.Config{RootCAs: pool, ServerName: host}
	if s.CertFile != "" {
		pair, err := tls.LoadX509KeyPair(s.CertFile, s.KeyFile)
		if err != nil {
			return nil, err
		}
		c.Certificates = []tls.Certificate{pair}
	}
	return &kafka.Dialer{Timeout: 10 * time.Second, DualStack: true, TLS: c}, nil
}

const timeout = 15 * time.Second

// A Conn is one connection to one broker: with a cluster's comma-separated bootstrap list, the
// first broker that answers serves the request (DialLeader then reconnects to the leader).
func firstAnswering(req request, open func(address string) (*kafka.Conn, error)) (*kafka.Conn, error) {
	var last error
	for _, address := range strings.Split(req.Bootstrap, ",") {
		conn, err := open(address)
		if err == nil {
			conn.SetDeadline(time.Now().Add(timeout))
			return conn, nil
		}
		last = err
	}
	return nil, last
}

func dial(req request) (*kafka.Conn, error) {
	return firstAnswering(req, func(address string) (*kafka.Conn, error) { return dialer.Dial("tcp", address) })
}

func leader(req request, partition int) (*kafka.Conn, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	return firstAnswering(req, func(address string) (*kafka.Conn, error) {
		return dialer.DialLeader(ctx, "tcp", address, req.Topic, partition)
	})
}

func str(s string) *string { return &s }

func run(req request) (interface{}, error) {
	switch req.Op {
	case "metadata", "describe-topics":
		conn, err := dial(req)
		if err != nil {
			return nil, err
		}
		defer conn.Close()
		names := []string{req.Topic}
		if req.Op == "describe-topics" {
			if err := json.Unmarshal(req.Topics, &names); err != nil {
				return nil, err
			}
		}
		parts, err := conn.ReadPartitions(names...)
		if err != nil {
			return nil, err
		}
		if req.Op == "describe-topics" {
			counts := map[string]int{}
			for _, p := range parts {
				counts[p.Topic]++
			}
			out := []map[string]interface{}{}
			for _, name := range names {
				out = append(out, map[string]interface{}{"name": name, "partitions": counts[name]})
			}
			return map[string]interface{}{"topics": out}, nil
		}
		// This release has no broker list call: the leaders are the brokers it knows.
		brokers := []map[string]interface{}{}
		seen := map[int]bool{}
		ids := []int{}
		for _, p := range parts {
			ids = append(ids, p.ID)
			if !seen[p.Leader.ID] {
				seen[p.Leader.ID] = true
				brokers = append(brokers, map[string]interface{}{"nodeId": p.Leader.ID, "host": p.Leader.Host, "port": p.Leader.Port})
			}
		}
		return map[string]interface{}{"brokers": brokers, "partitions": ids}, nil

	case "create-topics":
		var specs []topicSpec
		if err := json.Unmarshal(req.Topics, &specs); err != nil {
			return nil, err
		}
		conn, err := dial(req)
		if err != nil {
			return nil, err
		}
		defer conn.Close()
		for _, t := range specs {
			if err := conn.CreateTopics(kafka.TopicConfig{Topic: t.Name, NumPartitions: t.Partitions, ReplicationFactor: 1}); err != nil {
				return nil, err
			}
		}
		return map[string]interface{}{}, nil

	case "delete-topics":
		var names []string
		if err := json.Unmarshal(req.Topics, &names); err != nil {
			return nil, err
		}
		conn, err := dial(req)
		if err != nil {
			return nil, err
		}
		defer conn.Close()
		return map[string]interface{}{}, conn.DeleteTopics(names...)

	case "produce":
		byPartition := map[int][]kafka.Message{}
		order := []int{}
		for _, r := range req.Records {
			if _, ok := byPartition[r.Partition]; !ok {
				order = append(order, r.Partition)
			}
			m := kafka.Message{Key: []byte(*r.Key), Value: []byte(*r.Value)}
			if r.Timestamp != nil {
				m.Time = time.Unix(0, *r.Timestamp*int64(time.Millisecond))
			}
			byPartition[r.Partition] = append(byPartition[r.Partition], m)
		}
		var codec kafka.CompressionCodec
		switch req.Compression {
		case "gzip":
			codec = gzip.NewCompressionCodec()
		case "snappy":
			codec = snappy.NewCompressionCodec()
		case "lz4":
			codec = lz4.NewCompressionCodec()
		case "none":
		default:
			return nil, fmt.Errorf("kafka-go 0.2.1 has no %s codec", req.Compression)
		}
		sent := 0
		for _, p := range order {
			conn, err := leader(req, p)
			if err != nil {
				return nil, err
			}
			if err := conn.SetRequiredAcks(req.Acks); err != nil {
				conn.Close()
				return nil, err
			}
			var n int
			if codec != nil {
				_, err = conn.WriteCompressedMessages(codec, byPartition[p]...)
			} else {
				_, err = conn.WriteMessages(byPartition[p]...)
			}
			conn.Close()
			if err != nil {
				return nil, err
			}
			n = len(byPartition[p])
			sent += n
		}
		return map[string]interface{}{"sent": sent}, nil

	case "consume":
		out := []record{}
		for p := 0; p < req.Partitions; p++ {
			conn, err := leader(req, p)
			if err != nil {
				return nil, err
			}
			first, last, err := conn.ReadOffsets()
			if err != nil {
				conn.Close()
				return nil, err
			}
			if _, err := conn.Seek(first, kafka.SeekAbsolute); err != nil {
				conn.Close()
				return nil, err
			}
			for next, rounds := first, 0; next < last; rounds++ {
				if rounds == 100 {
					conn.Close()
					return nil, fmt.Errorf("partition %d: at %d of %d after %d fetches", p, next, last, rounds)
				}
				batch := conn.ReadBatch(1, 1<<20)
				for {
					m, err := batch.ReadMessage()
					if err != nil {
						break
					}
					ts := m.Time.UnixNano() / int64(time.Millisecond)
					r := record{Partition: m.Partition, Offset: m.Offset, Headers: map[string]string{}, Timestamp: &ts}
					if m.Key != nil {
						r.Key = str(string(m.Key))
					}
					if m.Value != nil {
						r.Value = str(string(m.Value))
					}
					out = append(out, r)
					next = m.Offset + 1
				}
				if err := batch.Close(); err != nil {
					conn.Close()
					return nil, fmt.Errorf("partition %d at %d of %d: %v", p, next, last, err)
				}
			}
			conn.Close()
		}
		return map[string]interface{}{"records": out}, nil

	case "offset-for-time":
		conn, err := leader(req, req.Partition)
		if err != nil {
			return nil, err
		}
		defer conn.Close()
		offset, err := conn.ReadOffset(time.Unix(0, req.Timestamp*int64(time.Millisecond)))
		if err != nil {
			return nil, err
		}
		return map[string]interface{}{"offset": offset}, nil

	case "group-consume":
		// A new group: no committed offsets, so the Reader starts at the first offset. With
		// CommitInterval 0 every ReadMessage commits synchronously.
		reader := kafka.NewReader(kafka.ReaderConfig{
			Brokers:           strings.Split(req.Bootstrap, ","),
			Dialer:            dialer,
			GroupID:           req.Group,
			Topic:             req.Topic,
			MinBytes:          1,
			MaxBytes:          1 << 20,
			MaxWait:           100 * time.Millisecond,
			SessionTimeout:    6 * time.Second,
			HeartbeatInterval: 500 * time.Millisecond,
			RebalanceTimeout:  6 * time.Second,
		})
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		defer cancel()
		out := []record{}
		for len(out) < req.Expected {
			m, err := reader.ReadMessage(ctx)
			if err != nil {
				reader.Close()
				return nil, fmt.Errorf("after %d of %d records: %v", len(out), req.Expected, err)
			}
			r := record{Partition: m.Partition, Offset: m.Offset, Headers: map[string]string{}}
			if m.Key != nil {
				r.Key = str(string(m.Key))
			}
			if m.Value != nil {
				r.Value = str(string(m.Value))
			}
			out = append(out, r)
		}
		if err := reader.Close(); err != nil {
			return nil, err
		}
		return map[string]interface{}{"records": out}, nil
	}
	return nil, fmt.Errorf("unknown op %q", req.Op)
}

func main() {
	var req request
	out, err := func() (interface{}, error) {
		if err := json.NewDecoder(os.Stdin).Decode(&req); err != nil {
			return nil, err
		}
		if req.Security != nil {
			d, err := secureDialer(req)
			if err != nil {
				return nil, err
			}
			dialer = d
		}
		return run(req)
	}()
	if err != nil {
		json.NewEncoder(os.Stdout).Encode(map[string]string{"error": err.Error()})
		os.Exit(1)
	}
	json.NewEncoder(os.Stdout).Encode(out)
}
