package logserver

import (
	"strings"

	"github.com/keelvm/keel/logserver/store"
)

type createLogGroupInput struct {
	LogGroupName              *string           `json:"logGroupName"`
	KmsKeyID                  *string           `json:"kmsKeyId"`
	Tags                      map[string]string `json:"tags"`
	LogGroupClass             *string           `json:"logGroupClass"`
	DeletionProtectionEnabled *bool             `json:"deletionProtectionEnabled"`
}

func (s *Server) createLogGroup(c *call) (any, *apiError) {
	var in createLogGroupInput
	if e := decodeInput(c.op, c.body, &in); e != nil {
		return nil, e
	}
	var v violations
	v.checkGroupName("logGroupName", in.LogGroupName, true)
	v.checkGroupClass(in.LogGroupClass)
	v.checkTags("tags", in.Tags)
	if e := v.err(); e != nil {
		return nil, e
	}
	name := *in.LogGroupName
	if strings.HasPrefix(strings.ToLower(name), "aws/") {
		return nil, errInvalidParameter("Log groups starting with AWS/ are reserved for AWS.")
	}
	if in.KmsKeyID != nil {
		return nil, errInvalidParameter("kmsKeyId is not supported by keel's log server: data is stored unencrypted under the server's data directory; omit kmsKeyId")
	}
	if e := s.authorize(c, name, ""); e != nil {
		return nil, e
	}
	if err := s.store.CreateGroup(name, in.Tags); err != nil {
		return nil, storeError(err)
	}
	return nil, nil
}

type groupNameInput struct {
	LogGroupName *string `json:"logGroupName"`
}

func (s *Server) deleteLogGroup(c *call) (any, *apiError) {
	var in groupNameInput
	if e := decodeInput(c.op, c.body, &in); e != nil {
		return nil, e
	}
	var v violations
	v.checkGroupName("logGroupName", in.LogGroupName, true)
	if e := v.err(); e != nil {
		return nil, e
	}
	if e := s.authorize(c, *in.LogGroupName, ""); e != nil {
		return nil, e
	}
	if err := s.store.DeleteGroup(*in.LogGroupName); err != nil {
		return nil, storeError(err)
	}
	return nil, nil
}

type describeLogGroupsInput struct {
	LogGroupNamePrefix    *string  `json:"logGroupNamePrefix"`
	LogGroupNamePattern   *string  `json:"logGroupNamePattern"`
	LogGroupIdentifiers   []string `json:"logGroupIdentifiers"`
	NextToken             *string  `json:"nextToken"`
	Limit                 *int64   `json:"limit"`
	LogGroupClass         *string  `json:"logGroupClass"`
	IncludeLinkedAccounts *bool    `json:"includeLinkedAccounts"`
	AccountIdentifiers    []string `json:"accountIdentifiers"`
}

type logGroupOut struct {
	LogGroupName      string `json:"logGroupName"`
	CreationTime      int64  `json:"creationTime"`
	RetentionInDays   int    `json:"retentionInDays,omitempty"`
	MetricFilterCount int    `json:"metricFilterCount"`
	Arn               string `json:"arn"`
	LogGroupArn       string `json:"logGroupArn"`
	StoredBytes       int64  `json:"storedBytes"`
	LogGroupClass     string `json:"logGroupClass"`
}

type describeLogGroupsOutput struct {
	LogGroups []logGroupOut `json:"logGroups"`
	NextToken string        `json:"nextToken,omitempty"`
}

func (s *Server) describeLogGroups(c *call) (any, *apiError) {
	var in describeLogGroupsInput
	if e := decodeInput(c.op, c.body, &in); e != nil {
		return nil, e
	}
	var v violations
	v.checkPrefix("logGroupNamePrefix", in.LogGroupNamePrefix, true)
	v.checkLimit("limit", in.Limit, 50)
	v.checkToken("nextToken", in.NextToken)
	v.checkGroupClass(in.LogGroupClass)
	if e := v.err(); e != nil {
		return nil, e
	}
	if in.LogGroupNamePrefix != nil && in.LogGroupNamePattern != nil {
		return nil, errInvalidParameter("LogGroupNamePrefix and LogGroupNamePattern are mutually exclusive. Only one can be specified.")
	}
	if in.LogGroupIdentifiers != nil && (in.LogGroupNamePrefix != nil || in.LogGroupNamePattern != nil) {
		return nil, errInvalidParameter("logGroupIdentifiers cannot be combined with logGroupNamePrefix or logGroupNamePattern.")
	}
	if e := s.authorize(c, "", ""); e != nil {
		return nil, e
	}
	scope := "groups|" + deref(in.LogGroupNamePrefix) + "|" + deref(in.LogGroupNamePattern) + "|" + strings.Join(in.LogGroupIdentifiers, ",")
	after := ""
	if in.NextToken != nil {
		var ok bool
		if after, ok = s.tokens.openName(scope, *in.NextToken); !ok {
			return nil, errInvalidParameter(msgBadToken)
		}
	}
	wanted := map[string]bool{}
	for _, id := range in.LogGroupIdentifiers {
		wanted[s.groupFromIdentifier(id)] = true
	}
	limit := limitOr(in.Limit, 50)
	out := describeLogGroupsOutput{LogGroups: []logGroupOut{}}
	for _, g := range s.store.Groups() {
		switch {
		case in.NextToken != nil && g.Name <= after:
			continue
		case in.LogGroupNamePrefix != nil && !strings.HasPrefix(g.Name, *in.LogGroupNamePrefix):
			continue
		case in.LogGroupNamePattern != nil && !strings.Contains(g.Name, *in.LogGroupNamePattern):
			continue
		case len(wanted) > 0 && !wanted[g.Name]:
			continue
		}
		if len(out.LogGroups) == limit {
			out.NextToken = s.tokens.sealName(scope, out.LogGroups[limit-1].LogGroupName)
			break
		}
		out.LogGroups = append(out.LogGroups, s.groupOut(g))
	}
	return out, nil
}

func (s *Server) groupOut(g store.Group) logGroupOut {
	arn := s.groupARN(g.Name)
	return logGroupOut{
		LogGroupName: g.Name, CreationTime: g.CreationTime, RetentionInDays: g.RetentionDays,
		Arn: arn + ":*", LogGroupArn: arn, StoredBytes: g.StoredBytes, LogGroupClass: "STANDARD",
	}
}

// groupFromIdentifier accepts a log group name or ARN (with or without the
// trailing ":*"), as logGroupIdentifier members do.
func (s *Server) groupFromIdentifier(id string) string {
	if !strings.HasPrefix(id, "arn:") {
		return id
	}
	// arn:aws:logs:REGION:ACCOUNT:log-group:NAME[:*]
	parts := strings.SplitN(id, ":", 7)
	if len(parts) < 7 || parts[5] != "log-group" {
		return id
	}
	return strings.TrimSuffix(parts[6], ":*")
}

var retentionDays = []int{1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653}

type putRetentionPolicyInput struct {
	LogGroupName    *string `json:"logGroupName"`
	RetentionInDays *int64  `json:"retentionInDays"`
}

func (s *Server) putRetentionPolicy(c *call) (any, *apiError) {
	var in putRetentionPolicyInput
	if e := decodeInput(c.op, c.body, &in); e != nil {
		return nil, e
	}
	var v violations
	v.checkGroupName("logGroupName", in.LogGroupName, true)
	if in.RetentionInDays == nil {
		v.addNull("retentionInDays")
	} else if !validRetention(*in.RetentionInDays) {
		v.add(*in.RetentionInDays, "retentionInDays", "Member must satisfy enum value set: "+retentionSet())
	}
	if e := v.err(); e != nil {
		return nil, e
	}
	if e := s.authorize(c, *in.LogGroupName, ""); e != nil {
		return nil, e
	}
	if err := s.store.SetRetention(*in.LogGroupName, int(*in.RetentionInDays)); err != nil {
		return nil, storeError(err)
	}
	return nil, nil
}

func (s *Server) deleteRetentionPolicy(c *call) (any, *apiError) {
	var in groupNameInput
	if e := decodeInput(c.op, c.body, &in); e != nil {
		return nil, e
	}
	var v violations
	v.checkGroupName("logGroupName", in.LogGroupName, true)
	if e := v.err(); e != nil {
		return nil, e
	}
	if e := s.authorize(c, *in.LogGroupName, ""); e != nil {
		return nil, e
	}
	if err := s.store.SetRetention(*in.LogGroupName, 0); err != nil {
		return nil, storeError(err)
	}
	return nil, nil
}

func validRetention(d int64) bool {
	for _, r := range retentionDays {
		if int64(r) == d {
			return true
		}
	}
	return false
}

func retentionSet() string {
	var b strings.Builder
	b.WriteByte('[')
	for i, r := range retentionDays {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(itoa(int64(r)))
	}
	b.WriteByte(']')
	return b.String()
}

func (v *violations) checkGroupClass(c *string) {
	if c == nil {
		return
	}
	switch *c {
	case "STANDARD", "INFREQUENT_ACCESS", "DELIVERY":
	default:
		v.add(*c, "logGroupClass", "Member must satisfy enum value set: [DELIVERY, STANDARD, INFREQUENT_ACCESS]")
	}
}
