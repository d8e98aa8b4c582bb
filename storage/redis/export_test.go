package redis

import (
	"context"

	goredis "github.com/redis/go-redis/v9"
)

// LoadFamilyScripts loads only the scripts that create and rotate refresh
// families into rdb's script cache (as after a restart in which other
// nodes have used just those).
func LoadFamilyScripts(ctx context.Context, rdb goredis.Scripter) error {
	if err := createFamily.Load(ctx, rdb).Err(); err != nil {
		return err
	}
	return rotateFamily.Load(ctx, rdb).Err()
}
