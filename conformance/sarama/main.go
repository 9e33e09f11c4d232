// Sarama (Debian's 1.22) as the conformance suite drives it: reads one JSON request on stdin
// ({"op", "bootstrap", ...}), does it with Sarama's public API and prints one JSON answer; on
// failure prints {"error": ...} and exits 1. The ops and shapes are those of
// conformance/harness/process-driver.ts. A request may name a "security" (conformance/security/):
// TLS with the test CA and, if given, a client certificate; SASL with PLAIN or SCRAM, whose client
// side this release leaves to the application (scramClient below). Built in GOPATH mode from
// Debian's Go packages.
package main

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io/ioutil"
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
	Security    *security       `json:"security"`
}

// security says how to connect when it is not PLAINTEXT: protocol SSL, SASL_SSL or
// SASL_PLAINTEXT, mechanism PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512, PEM files.
type security struct {
	Protocol  string `json:"protocol"`
	Mechanism string `json:"mechanism"`
	Username  string `json:"username"`
	Password  string `json:"password"`
	CAFile    string `json:"caFile"`
	CertFile  string `json:"certFile"`
	KeyFile   string `json:"keyFile"`
}

// The request's security and its TLS configuration, set once in main before any connection.
var secured *security
var securedTLS *tls.Config

func tlsConfig(s *security) (*tls.Config, error) {
	ca, err := ioutil.ReadFile(s.CAFile)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(ca) {
		return nil, fmt.Errorf("no certificate in %s", s.CAFile)
	}
	c := &tls.Config{RootCAs: pool}
	if s.CertFile != "" {
		pair, err := tls.LoadX509KeyPair(s.CertFile, s.KeyFile)
		if err != nil {
			return nil, err
		}
		c.Certificates = []tls.Certificate{pair}
	}
	return c, nil
}

func applySecurity(c *sarama.Config) {
	if secured == nil {
		return
	}
	if secured.Protocol == "SSL" || secured.Protocol == "SASL_SSL" {
		c.Net.TLS.Enable = true
		c.Net.TLS.Config = securedTLS
	}
	if secured.Protocol == "SASL_SSL" || secured.Protocol == "SASL_PLAINTEXT" {
		c.Net.SASL.Enable = true
		c.Net.SASL.Handshake = true
		c.Net.SASL.Mechanism = sarama.SASLMechanism(secured.Mechanism)
		c.Net.SASL.User = secured.Username
		c.Net.SASL.Password = secured.Password
		switch c.Net.SASL.Mechanism {
		case sarama.SASLTypeSCRAMSHA512:
			c.Net.SASL.SCRAMClientGeneratorFunc = func() sarama.SCRAMClient { return &scramClient{hash: sha512.New} }
		case sarama.SASLTypeSCRAMSHA256:
			c.Net.SASL.SCRAMClientGeneratorFunc = func() sarama.SCRAMClient { return &scramClient{hash: sha256.New} }
		}
	}
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
	applySecurity(c)
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

	case "connect":
		// One connection to the first bootstrap broker and one Metadata request on it: the
		// outcome of the TLS and SASL handshakes themselves, which NewClient hides behind retries.
		b := sarama.NewBroker(brokers(req)[0])
		if err := b.Open(config()); err != nil {
			return nil, err
		}
		defer b.Close()
		if connected, err := b.Connected(); err != nil || !connected {
			if err == nil {
				err = errors.New("not connected")
			}
			return nil, err
		}
		md, err := b.GetMetadata(&sarama.MetadataRequest{})
		if err != nil {
			return nil, err
		}
		return map[string]interface{}{"brokers": len(md.Brokers)}, nil
	}
	return nil, fmt.Errorf("unknown op %q", req.Op)
}

// scramClient is the client side of SCRAM (RFC 5802, with SHA-256 or SHA-512 as RFC 7677) for
// Sarama's SCRAMClient interface: client-first, then client-final with the proof, then a check
// of the server's signature. Debian packages no SCRAM or PBKDF2 library for Go, hence its own.
// User names are escaped as saslname; passwords are taken as they are (ASCII, no SASLprep).
type scramClient struct {
	hash            func() hash.Hash
	user, password  string
	gs2Header       string
	nonce           string
	clientFirstBare string
	serverSignature []byte
	step            int
	done            bool
}

func (s *scramClient) Begin(user, password, authzID string) error {
	raw := make([]byte, 18)
	if _, err := rand.Read(raw); err != nil {
		return err
	}
	s.user, s.password = user, password
	s.gs2Header = "n,,"
	if authzID != "" {
		s.gs2Header = "n,a=" + saslName(authzID) + ","
	}
	s.nonce = base64.StdEncoding.EncodeToString(raw)
	s.step, s.done = 0, false
	return nil
}

func (s *scramClient) Step(challenge string) (string, error) {
	s.step++
	switch s.step {
	case 1:
		s.clientFirstBare = "n=" + saslName(s.user) + ",r=" + s.nonce
		return s.gs2Header + s.clientFirstBare, nil
	case 2:
		return s.clientFinal(challenge)
	case 3:
		return "", s.verify(challenge)
	}
	return "", errors.New("the SCRAM exchange is over")
}

func (s *scramClient) Done() bool { return s.done }

func (s *scramClient) clientFinal(serverFirst string) (string, error) {
	a := scramAttributes(serverFirst)
	if e, ok := a["e"]; ok {
		return "", fmt.Errorf("server-first-message: %s", e)
	}
	if !strings.HasPrefix(a["r"], s.nonce) || len(a["r"]) == len(s.nonce) {
		return "", errors.New("server nonce does not extend the client nonce")
	}
	salt, err := base64.StdEncoding.DecodeString(a["s"])
	if err != nil {
		return "", fmt.Errorf("salt: %v", err)
	}
	iterations, err := strconv.Atoi(a["i"])
	if err != nil || iterations < 1 {
		return "", fmt.Errorf("iteration count %q", a["i"])
	}
	salted := pbkdf2(s.hash, []byte(s.password), salt, iterations, s.hash().Size())
	clientKey := hmacOf(s.hash, salted, []byte("Client Key"))
	stored := s.hash()
	stored.Write(clientKey)
	withoutProof := "c=" + base64.StdEncoding.EncodeToString([]byte(s.gs2Header)) + ",r=" + a["r"]
	authMessage := []byte(s.clientFirstBare + "," + serverFirst + "," + withoutProof)
	proof := hmacOf(s.hash, stored.Sum(nil), authMessage)
	for i := range proof {
		proof[i] ^= clientKey[i]
	}
	s.serverSignature = hmacOf(s.hash, hmacOf(s.hash, salted, []byte("Server Key")), authMessage)
	return withoutProof + ",p=" + base64.StdEncoding.EncodeToString(proof), nil
}

func (s *scramClient) verify(serverFinal string) error {
	a := scramAttributes(serverFinal)
	if e, ok := a["e"]; ok {
		return fmt.Errorf("server-final-message: %s", e)
	}
	v, err := base64.StdEncoding.DecodeString(a["v"])
	if err != nil || !hmac.Equal(v, s.serverSignature) {
		return errors.New("the server signature does not verify")
	}
	s.done = true
	return nil
}

// scramAttributes reads "k=value,k=value": the first of each key, values may hold '='.
func scramAttributes(msg string) map[string]string {
	out := map[string]string{}
	for _, part := range strings.Split(msg, ",") {
		if len(part) >= 2 && part[1] == '=' {
			if _, seen := out[part[:1]]; !seen {
				out[part[:1]] = part[2:]
			}
		}
	}
	return out
}

func saslName(name string) string {
	return strings.NewReplacer("=", "=3D", ",", "=2C").Replace(name)
}

func hmacOf(h func() hash.Hash, key, data []byte) []byte {
	mac := hmac.New(h, key)
	mac.Write(data)
	return mac.Sum(nil)
}

// pbkdf2 is PBKDF2 with HMAC (RFC 8018, section 5.2): SCRAM's Hi() when keyLen is the hash size.
func pbkdf2(h func() hash.Hash, password, salt []byte, iterations, keyLen int) []byte {
	mac := hmac.New(h, password)
	out := []byte{}
	for block := uint32(1); len(out) < keyLen; block++ {
		mac.Reset()
		mac.Write(salt)
		mac.Write([]byte{byte(block >> 24), byte(block >> 16), byte(block >> 8), byte(block)})
		u := mac.Sum(nil)
		t := append([]byte(nil), u...)
		for n := 1; n < iterations; n++ {
			mac.Reset()
			mac.Write(u)
			u = mac.Sum(u[:0])
			for i := range t {
				t[i] ^= u[i]
			}
		}
		out = append(out, t...)
	}
	return out[:keyLen]
}

func main() {
	var req request
	out, err := func() (interface{}, error) {
		if err := json.NewDecoder(os.Stdin).Decode(&req); err != nil {
			return nil, err
		}
		if req.Security != nil {
			secured = req.Security
			if secured.Protocol == "SSL" || secured.Protocol == "SASL_SSL" {
				c, err := tlsConfig(secured)
				if err != nil {
					return nil, err
				}
				securedTLS = c
			}
		}
		return run(req)
	}()
	if err != nil {
		json.NewEncoder(os.Stdout).Encode(map[string]string{"error": err.Error()})
		os.Exit(1)
	}
	json.NewEncoder(os.Stdout).Encode(out)
}
