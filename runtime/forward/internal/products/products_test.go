package products

import (
	"encoding/json"
	"reflect"
	"testing"
)

func TestRead(t *testing.T) {
	price := 9.5
	tests := []struct {
		name  string
		props string
		want  Products
	}{
		{"none", ``, Products{}},
		{"not an object", `[1,2]`, Products{}},
		{"ids as strings and numbers", `{"content_ids":["SKU-1",42]}`, Products{IDs: []string{"SKU-1", "42"}}},
		{"contents with aliases", `{"contents":[{"content_id":7,"quantity":2,"price":9.5,"content_name":"Shirt"},{"quantity":1}]}`,
			Products{Items: []Item{{ID: "7", Name: "Shirt", Quantity: 2, Price: &price}}}},
		{"contents with own names", `{"contents":[{"id":"a","item_price":9.5,"brand":"B","category":"C","name":"N"}]}`,
			Products{Items: []Item{{ID: "a", Name: "N", Brand: "B", Category: "C", Price: &price}}}},
		{"bad id type drops all", `{"content_ids":[{"x":1}]}`, Products{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Read(json.RawMessage(tt.props))
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("Read(%s) = %+v, want %+v", tt.props, got, tt.want)
			}
		})
	}
}
