package logserver

import (
	"fmt"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Tag limits of CloudWatch Logs.
const (
	maxTags        = 50
	maxTagKeyLen   = 128
	maxTagValueLen = 256
)

func validTagKey(k string) bool {
	if k == "" || !utf8.ValidString(k) {
		return false
	}
	for _, r := range k {
		if !(unicode.IsLetter(r) || unicode.IsNumber(r) || unicode.Is(unicode.Zs, r) || strings.ContainsRune("_.:/=+-@", r)) {
			return false
		}
	}
	return true
}

func (v *violations) checkTags(path string, tags map[string]string) {
	if tags == nil {
		return
	}
	if len(tags) > maxTags {
		v.add(fmt.Sprintf("{%d tags}", len(tags)), path, "Member must have length less than or equal to 50")
	}
	keys := make([]string, 0, len(tags))
	for k := range tags {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		switch {
		case utf8.RuneCountInString(k) > maxTagKeyLen:
			v.add(k, path+".key", "Member must have length less than or equal to 128")
		case !validTagKey(k):
			v.add(k, path+".key", `Member must satisfy regular expression pattern: ^([\p{L}\p{Z}\p{N}_.:/=+\-@]+)$`)
		}
		if utf8.RuneCountInString(tags[k]) > maxTagValueLen {
			v.add(tags[k], path+".value", "Member must have length less than or equal to 256")
		}
	}
}

func (v *violations) checkTagKeys(path string, keys []string, required bool) {
	if keys == nil {
		if required {
			v.addNull(path)
		}
		return
	}
	if len(keys) < 1 || len(keys) > maxTags {
		v.add(fmt.Sprintf("[%d keys]", len(keys)), path, lengthConstraint(len(keys), 1, maxTags))
	}
	for i, k := range keys {
		if utf8.RuneCountInString(k) > maxTagKeyLen || !validTagKey(k) {
			v.add(k, fmt.Sprintf("%s.%d.member", path, i+1), `Member must satisfy regular expression pattern: ^([\p{L}\p{Z}\p{N}_.:/=+\-@]+)$`)
		}
	}
}

type tagLogGroupInput struct {
	LogGroupName *string           `json:"logGroupName"`
	Tags         map[string]string `json:"tags"`
}

func (s *Server) tagLogGroup(c *call) (any, *apiError) {
	var in tagLogGroupInput
	if e := decodeInput(c.op, c.body, &in); e != nil {
		return nil, e
	}
	var v violations
	v.checkGroupName("logGroupName", in.LogGroupName, true)
	if in.Tags == nil {
		v.addNull("tags")
	} else if len(in.Tags) == 0 {
		v.add("{}", "tags", "Member must have length greater than or equal to 1")
	}
	v.checkTags("tags", in.Tags)
	if e := v.err(); e != nil {
		return nil, e
	}
	return nil, s.tag(c, *in.LogGroupName, in.Tags)
}

type untagLogGroupInput struct {
	LogGroupName *string  `json:"logGroupName"`
	Tags         []string `json:"tags"`
}

func (s *Server) untagLogGroup(c *call) (any, *apiError) {
	var in untagLogGroupInput
	if e := decodeInput(c.op, c.body, &in); e != nil {
		return nil, e
	}
	var v violations
	v.checkGroupName("logGroupName", in.LogGroupName, true)
	v.checkTagKeys("tags", in.Tags, true)
	if e := v.err(); e != nil {
		return nil, e
	}
	return nil, s.untag(c, *in.LogGroupName, in.Tags)
}

type listTagsOutput struct {
	Tags map[string]string `json:"tags"`
}

func (s *Server) listTagsLogGroup(c *call) (any, *apiError) {
	var in groupNameInput
	if e := decodeInput(c.op, c.body, &in); e != nil {
		return nil, e
	}
	var v violations
	v.checkGroupName("logGroupName", in.LogGroupName, true)
	if e := v.err(); e != nil {
		return nil, e
	}
	tags, e := s.listTags(c, *in.LogGroupName)
	if e != nil {
		return nil, e
	}
	return listTagsOutput{Tags: tags}, nil
}

type tagResourceInput struct {
	ResourceArn *string           `json:"resourceArn"`
	Tags        map[string]string `json:"tags"`
}

func (s *Server) tagResource(c *call) (any, *apiError) {
	var in tagResourceInput
	if e := decodeInput(c.op, c.body, &in); e != nil {
		return nil, e
	}
	var v violations
	group := s.checkResourceARN(&v, in.ResourceArn)
	if in.Tags == nil {
		v.addNull("tags")
	}
	v.checkTags("tags", in.Tags)
	if e := v.err(); e != nil {
		return nil, e
	}
	return nil, s.tag(c, group, in.Tags)
}

type untagResourceInput struct {
	ResourceArn *string  `json:"resourceArn"`
	TagKeys     []string `json:"tagKeys"`
}

func (s *Server) untagResource(c *call) (any, *apiError) {
	var in untagResourceInput
	if e := decodeInput(c.op, c.body, &in); e != nil {
		return nil, e
	}
	var v violations
	group := s.checkResourceARN(&v, in.ResourceArn)
	v.checkTagKeys("tagKeys", in.TagKeys, true)
	if e := v.err(); e != nil {
		return nil, e
	}
	return nil, s.untag(c, group, in.TagKeys)
}

type resourceArnInput struct {
	ResourceArn *string `json:"resourceArn"`
}

func (s *Server) listTagsForResource(c *call) (any, *apiError) {
	var in resourceArnInput
	if e := decodeInput(c.op, c.body, &in); e != nil {
		return nil, e
	}
	var v violations
	group := s.checkResourceARN(&v, in.ResourceArn)
	if e := v.err(); e != nil {
		return nil, e
	}
	tags, e := s.listTags(c, group)
	if e != nil {
		return nil, e
	}
	return listTagsOutput{Tags: tags}, nil
}

// checkResourceARN accepts the ARN of a log group, the only taggable
// resource this server has, and returns the group name.
func (s *Server) checkResourceARN(v *violations, arn *string) string {
	if arn == nil {
		v.addNull("resourceArn")
		return ""
	}
	if !strings.HasPrefix(*arn, "arn:") || !strings.Contains(*arn, ":log-group:") {
		v.add(*arn, "resourceArn", "Member must satisfy regular expression pattern: [\\w+=/:,.@-]*")
		return ""
	}
	return s.groupFromIdentifier(*arn)
}

func (s *Server) tag(c *call, group string, tags map[string]string) *apiError {
	if e := s.authorize(c, group, ""); e != nil {
		return e
	}
	// The count check and the merge must not interleave with another
	// request's, or two could together pass the limit.
	s.tagMu.Lock()
	defer s.tagMu.Unlock()
	g, err := s.store.Group(group)
	if err != nil {
		return storeError(err)
	}
	merged := len(g.Tags)
	for k := range tags {
		if _, ok := g.Tags[k]; !ok {
			merged++
		}
	}
	if merged > maxTags {
		return errInvalidParameter("A log group can have at most %d tags; this request would give %s %d.", maxTags, group, merged)
	}
	if err := s.store.TagGroup(group, tags); err != nil {
		return storeError(err)
	}
	return nil
}

func (s *Server) untag(c *call, group string, keys []string) *apiError {
	if e := s.authorize(c, group, ""); e != nil {
		return e
	}
	if err := s.store.UntagGroup(group, keys); err != nil {
		return storeError(err)
	}
	return nil
}

func (s *Server) listTags(c *call, group string) (map[string]string, *apiError) {
	if e := s.authorize(c, group, ""); e != nil {
		return nil, e
	}
	g, err := s.store.Group(group)
	if err != nil {
		return nil, storeError(err)
	}
	if g.Tags == nil {
		return map[string]string{}, nil
	}
	return g.Tags, nil
}
