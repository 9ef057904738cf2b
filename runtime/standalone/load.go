package standalone

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	sigsjson "sigs.k8s.io/json"
	"sigs.k8s.io/yaml"

	"github.com/trackstack/trackstack/api/v1alpha1"
)

// ErrConfig is wrapped by every error about the input files: a person must
// fix them, a restart will not help.
var ErrConfig = errors.New("invalid standalone configuration")

// Resources are the objects read from the files.
type Resources struct {
	Sites             []v1alpha1.TrackingSite
	Destinations      []v1alpha1.Destination
	RetentionPolicies []v1alpha1.RetentionPolicy
	// Secrets are the Secret documents' keys by Secret name (data, with
	// stringData over it, as the API server merges them).
	Secrets map[string]map[string][]byte

	// source tells where each object came from, for error messages.
	source map[string]string
}

// LoadFiles reads the YAML files at paths; a directory is read recursively
// (*.yaml and *.yml, in lexical order, skipping hidden directories). Every
// document is decoded strictly into its Go type, so a misspelt field is an
// error naming the file and document, then the set is checked for broken
// references.
func LoadFiles(paths []string) (*Resources, error) {
	files, err := expand(paths)
	if err != nil {
		return nil, err
	}
	res := &Resources{Secrets: map[string]map[string][]byte{}, source: map[string]string{}}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("%w: while reading %s: %w", ErrConfig, f, err)
		}
		if err := res.decode(f, data); err != nil {
			return nil, err
		}
	}
	if err := res.validate(); err != nil {
		return nil, err
	}
	return res, nil
}

// expand turns files and directories into the list of files to read.
func expand(paths []string) ([]string, error) {
	if len(paths) == 0 {
		return nil, fmt.Errorf("%w: no files given (-f)", ErrConfig)
	}
	var files []string
	for _, p := range paths {
		info, err := os.Stat(p)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrConfig, err)
		}
		if !info.IsDir() {
			files = append(files, p)
			continue
		}
		var found []string
		err = filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() {
				if path != p && strings.HasPrefix(d.Name(), ".") {
					return filepath.SkipDir
				}
				return nil
			}
			if ext := filepath.Ext(path); ext == ".yaml" || ext == ".yml" {
				found = append(found, path)
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("%w: while listing %s: %w", ErrConfig, p, err)
		}
		if len(found) == 0 {
			return nil, fmt.Errorf("%w: no *.yaml or *.yml files in %s", ErrConfig, p)
		}
		sort.Strings(found)
		files = append(files, found...)
	}
	return files, nil
}

// typeMeta is what tells a document's Go type.
type typeMeta struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
}

// decode adds the documents of one file. Documents are numbered from 1 in
// messages, counting empty ones, so the number matches the file.
func (res *Resources) decode(file string, data []byte) error {
	r := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(data)))
	for i := 1; ; i++ {
		doc, err := r.Read()
		if errors.Is(err, io.EOF) {
			return nil
		}
		src := fmt.Sprintf("%s (document %d)", file, i)
		if err != nil {
			return fmt.Errorf("%w: %s: %w", ErrConfig, src, err)
		}
		if err := res.decodeDocument(src, doc); err != nil {
			return fmt.Errorf("%w: %s: %w", ErrConfig, src, err)
		}
	}
}

func (res *Resources) decodeDocument(src string, doc []byte) error {
	var tm typeMeta
	if err := yaml.Unmarshal(doc, &tm); err != nil {
		return err
	}
	if tm == (typeMeta{}) {
		var v any
		if err := yaml.Unmarshal(doc, &v); err != nil {
			return err
		}
		if v == nil {
			return nil // empty, or comments only
		}
		return errors.New("no apiVersion and kind")
	}
	group := v1alpha1.GroupVersion.String()
	switch {
	case tm.APIVersion == group && tm.Kind == "TrackingSite":
		var o v1alpha1.TrackingSite
		if err := strict(doc, &o); err != nil {
			return err
		}
		res.Sites = append(res.Sites, o)
		return res.note("TrackingSite", o.Name, src)
	case tm.APIVersion == group && tm.Kind == "Destination":
		var o v1alpha1.Destination
		if err := strict(doc, &o); err != nil {
			return err
		}
		res.Destinations = append(res.Destinations, o)
		return res.note("Destination", o.Name, src)
	case tm.APIVersion == group && tm.Kind == "RetentionPolicy":
		var o v1alpha1.RetentionPolicy
		if err := strict(doc, &o); err != nil {
			return err
		}
		res.RetentionPolicies = append(res.RetentionPolicies, o)
		return res.note("RetentionPolicy", o.Name, src)
	case tm.APIVersion == "v1" && tm.Kind == "Secret":
		var o corev1.Secret
		if err := strict(doc, &o); err != nil {
			return err
		}
		if err := res.note("Secret", o.Name, src); err != nil {
			return err
		}
		keys := make(map[string][]byte, len(o.Data)+len(o.StringData))
		for k, v := range o.Data {
			keys[k] = v
		}
		for k, v := range o.StringData {
			keys[k] = []byte(v)
		}
		res.Secrets[o.Name] = keys
		return nil
	}
	return fmt.Errorf("%s %s is not read in standalone mode (it reads %s TrackingSite, Destination and RetentionPolicy, and v1 Secret)",
		tm.APIVersion, tm.Kind, group)
}

// strict decodes a document, rejecting unknown and duplicate fields with
// their paths (`unknown field "spec.domain"`), as the API server's strict
// field validation does.
func strict(doc []byte, into any) error {
	j, err := yaml.YAMLToJSONStrict(doc)
	if err != nil {
		return err
	}
	strictErrs, err := sigsjson.UnmarshalStrict(j, into)
	if err != nil {
		return err
	}
	return errors.Join(strictErrs...)
}

// note records where an object came from, refusing a second object of the
// same kind and name.
func (res *Resources) note(kind, name, src string) error {
	if name == "" {
		return fmt.Errorf("%s has no metadata.name", kind)
	}
	key := kind + "/" + name
	if prev, dup := res.source[key]; dup {
		return fmt.Errorf("%s %s is already defined in %s", kind, name, prev)
	}
	res.source[key] = src
	return nil
}

// Source says where an object of that kind and name was read.
func (res *Resources) Source(kind, name string) string { return res.source[kind+"/"+name] }

// DestinationsOf returns the Destinations of a site.
func (res *Resources) DestinationsOf(site string) []v1alpha1.Destination {
	var out []v1alpha1.Destination
	for _, d := range res.Destinations {
		if d.Spec.SiteRef.Name == site {
			out = append(out, d)
		}
	}
	return out
}

// RetentionPoliciesOf returns the RetentionPolicies of a site.
func (res *Resources) RetentionPoliciesOf(site string) []v1alpha1.RetentionPolicy {
	var out []v1alpha1.RetentionPolicy
	for _, p := range res.RetentionPolicies {
		if p.Spec.SiteRef.Name == site {
			out = append(out, p)
		}
	}
	return out
}
