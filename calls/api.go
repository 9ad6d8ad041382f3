package calls

import (
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/hotline-ivr/hotline/web"
)

// Register mounts GET /calls (newest first; channel, reason, since,
// until (RFC 3339), limit, offset) and GET /calls/:id (with turns) on
// api, behind guard (agents and supervisors).
func Register(api *gin.RouterGroup, s *Store, guard gin.HandlerFunc) {
	g := api.Group("/calls", guard)
	g.GET("", func(c *gin.Context) {
		var f Filter
		f.Channel, f.Reason = c.Query("channel"), c.Query("reason")
		for key, dst := range map[string]*time.Time{"since": &f.Since, "until": &f.Until} {
			if v := c.Query(key); v != "" {
				t, err := time.Parse(time.RFC3339, v)
				if err != nil {
					web.Problem(c, http.StatusBadRequest, "Bad query", key+" must be an RFC 3339 time")
					return
				}
				*dst = t
			}
		}
		for key, dst := range map[string]*int{"limit": &f.Limit, "offset": &f.Offset} {
			if v := c.Query(key); v != "" {
				n, err := strconv.Atoi(v)
				if err != nil || n < 0 {
					web.Problem(c, http.StatusBadRequest, "Bad query", key+" must be a non-negative number")
					return
				}
				*dst = n
			}
		}
		list, err := s.List(c.Request.Context(), f)
		if err != nil {
			web.Problem(c, http.StatusInternalServerError, "Calls unavailable", "the call records could not be read")
			return
		}
		c.JSON(http.StatusOK, gin.H{"calls": list})
	})
	g.GET("/:id", func(c *gin.Context) {
		call, err := s.Get(c.Request.Context(), c.Param("id"))
		switch {
		case errors.Is(err, ErrNotFound):
			web.Problem(c, http.StatusNotFound, "Not found", "no call with this id")
		case err != nil:
			web.Problem(c, http.StatusInternalServerError, "Calls unavailable", "the call record could not be read")
		default:
			c.JSON(http.StatusOK, call)
		}
	})
}
