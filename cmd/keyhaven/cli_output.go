package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

// field is one member of a JSON object, in the order of the response.
type field struct {
	name  string
	value any // json.Number, string, bool, nil, []field (object) or []any (array)
}

// printResponse prints an API response: format "json" is the response
// object (the API's field names, without the Response wrapper); "table" is
// a readable table. Fields named in omit are left out; "*" prints nothing.
func printResponse(w io.Writer, format string, resp any, omit ...string) error {
	if slices.Contains(omit, "*") {
		return nil
	}
	raw, err := json.Marshal(resp)
	if err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	v, err := decodeOrdered(dec)
	if err != nil {
		return err
	}
	obj, _ := v.([]field)
	obj = slices.DeleteFunc(obj, func(f field) bool { return slices.Contains(omit, f.name) })
	if format == "json" {
		var buf bytes.Buffer
		encodeOrdered(&buf, obj, "")
		buf.WriteByte('\n')
		_, err := w.Write(buf.Bytes())
		return err
	}
	return printTable(w, obj)
}

// decodeOrdered decodes one JSON value keeping the order of object members.
func decodeOrdered(dec *json.Decoder) (any, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	switch tok {
	case json.Delim('{'):
		obj := []field{}
		for dec.More() {
			key, err := dec.Token()
			if err != nil {
				return nil, err
			}
			v, err := decodeOrdered(dec)
			if err != nil {
				return nil, err
			}
			obj = append(obj, field{key.(string), v})
		}
		_, err := dec.Token()
		return obj, err
	case json.Delim('['):
		arr := []any{}
		for dec.More() {
			v, err := decodeOrdered(dec)
			if err != nil {
				return nil, err
			}
			arr = append(arr, v)
		}
		_, err := dec.Token()
		return arr, err
	}
	return tok, nil
}

func encodeOrdered(buf *bytes.Buffer, v any, indent string) {
	switch v := v.(type) {
	case []field:
		if len(v) == 0 {
			buf.WriteString("{}")
			return
		}
		buf.WriteString("{\n")
		for i, f := range v {
			k, _ := json.Marshal(f.name)
			buf.WriteString(indent + "  ")
			buf.Write(k)
			buf.WriteString(": ")
			encodeOrdered(buf, f.value, indent+"  ")
			if i < len(v)-1 {
				buf.WriteByte(',')
			}
			buf.WriteByte('\n')
		}
		buf.WriteString(indent + "}")
	case []any:
		if len(v) == 0 {
			buf.WriteString("[]")
			return
		}
		buf.WriteString("[\n")
		for i, e := range v {
			buf.WriteString(indent + "  ")
			encodeOrdered(buf, e, indent+"  ")
			if i < len(v)-1 {
				buf.WriteByte(',')
			}
			buf.WriteByte('\n')
		}
		buf.WriteString(indent + "]")
	default:
		b, _ := json.Marshal(v)
		buf.Write(b)
	}
}

// maxColumns is how many members a list's table shows in full; wider lists
// show listColumns.
const maxColumns = 6

// listColumns are the columns of wide lists (keys, audit events, policies),
// in order, by the name of their objects' first member.
var listColumns = map[string][]string{
	"KeyId":    {"KeyId", "Alias", "KeyState", "KeyUsage", "ProtectionLevel", "CreateTime"},
	"EventId":  {"EventId", "EventTime", "EventName", "Username", "ErrorMessage", "RequestID"},
	"PolicyId": {"PolicyId", "PolicyName", "AddTime", "Description", "Attachments"},
}

// printTable prints an object as "Name  value" rows; members that are
// objects are flattened into the rows, and lists of objects become a table
// of their own.
func printTable(w io.Writer, obj []field) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	var lists []field
	var rows func(obj []field)
	rows = func(obj []field) {
		for _, f := range obj {
			switch v := f.value.(type) {
			case []field:
				rows(v)
			case []any:
				if len(v) > 0 {
					if _, ok := v[0].([]field); ok {
						lists = append(lists, f)
						continue
					}
				}
				parts := make([]string, len(v))
				for i, e := range v {
					parts[i] = scalar("", e)
				}
				fmt.Fprintf(tw, "%s\t%s\n", f.name, strings.Join(parts, ", "))
			default:
				fmt.Fprintf(tw, "%s\t%s\n", f.name, scalar(f.name, v))
			}
		}
	}
	rows(obj)
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, l := range lists {
		fmt.Fprintf(w, "\n%s:\n", l.name)
		if err := printList(w, l.value.([]any)); err != nil {
			return err
		}
	}
	return nil
}

func printList(w io.Writer, items []any) error {
	var cols []string
	first := items[0].([]field)
	for _, f := range first {
		cols = append(cols, f.name)
	}
	if want, ok := listColumns[cols[0]]; ok && len(cols) > maxColumns {
		all := cols
		cols = slices.DeleteFunc(slices.Clone(want), func(c string) bool { return !slices.Contains(all, c) })
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, strings.Join(cols, "\t"))
	for _, it := range items {
		obj, _ := it.([]field)
		vals := make([]string, len(cols))
		for i, c := range cols {
			vals[i] = "-"
			for _, f := range obj {
				if f.name == c {
					vals[i] = scalar(c, f.value)
				}
			}
		}
		fmt.Fprintln(tw, strings.Join(vals, "\t"))
	}
	return tw.Flush()
}

// scalar renders a value for a table; times (Unix seconds, as numbers or
// strings, in members named *Time, *Date, ValidTo or ParametersValidTo) as
// RFC 3339 in UTC, and 0 or "" as "-".
func scalar(name string, v any) string {
	isTime := strings.HasSuffix(name, "Time") || strings.HasSuffix(name, "Date") || strings.HasSuffix(name, "ValidTo")
	switch v := v.(type) {
	case nil:
		return "-"
	case string:
		if v == "" {
			return "-"
		}
		if n, err := strconv.ParseInt(v, 10, 64); err == nil && isTime && n > 0 {
			return time.Unix(n, 0).UTC().Format(time.RFC3339)
		}
		return v
	case json.Number:
		if isTime {
			n, err := strconv.ParseInt(string(v), 10, 64)
			if err == nil {
				if n == 0 {
					return "-"
				}
				return time.Unix(n, 0).UTC().Format(time.RFC3339)
			}
		}
		return string(v)
	case bool:
		return strconv.FormatBool(v)
	}
	b, _ := json.Marshal(v)
	return string(b)
}
