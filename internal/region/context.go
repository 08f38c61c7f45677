package region

import "context"

type regionKey struct{}

func withRegion(ctx context.Context, region string) context.Context {
	return context.WithValue(ctx, regionKey{}, region)
}

// regionOf is the calling peer region of a request.
func regionOf(ctx context.Context) string {
	s, _ := ctx.Value(regionKey{}).(string)
	return s
}
